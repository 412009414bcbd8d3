import { readFile, rm } from 'node:fs/promises';
import type { VmPaths } from '../paths.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import type { QmpClient } from '../qmp/client.ts';

// A live snapshot pauses a running guest while its RAM is saved. If the engine dies in
// between (kill -9, a crash), QEMU lives on, paused, and nobody would ever let it go on: the
// guest looks hung. So the engine notes "was running, pausing for snapshot <id>" in the VM's
// runtime folder before it pauses, and removes the note once the guest runs again. A later
// engine that finds the note on a paused VM knows the pause was ours, waits for the
// snapshot job QEMU may still be running, and resumes the guest (or says why it did not).

export interface PauseMarker {
  wasRunning: true;
  snapshot: string;
  /** the QEMU job id of the snapshot-save */
  jobId: string;
  at: string;
  pid: number;
}

export async function writePauseMarker(paths: VmPaths, snapshot: string, jobId: string): Promise<void> {
  const m: PauseMarker = { wasRunning: true, snapshot, jobId, at: new Date().toISOString(), pid: process.pid };
  await writeJsonAtomic(paths.snapshotPause, m, 0o600);
}

export async function clearPauseMarker(paths: VmPaths): Promise<void> {
  await rm(paths.snapshotPause, { force: true });
}

export async function readPauseMarker(paths: VmPaths): Promise<PauseMarker | null> {
  try {
    const m = JSON.parse(await readFile(paths.snapshotPause, 'utf8')) as Partial<PauseMarker>;
    return m.wasRunning === true && typeof m.snapshot === 'string' && typeof m.jobId === 'string' ? (m as PauseMarker) : null;
  } catch {
    return null;
  }
}

export type PauseOutcome =
  | { action: 'resume' }
  /** nothing to do: no note, or the guest already runs */
  | { action: 'none' }
  /** leave it paused; `reason` says why, for vms.get */
  | { action: 'keep-paused'; reason: string };

const JOB_WAIT_MS = 10 * 60_000;
const POLL_MS = 250;

/**
 * What to do with a guest found paused with a pause note: wait (bounded) for the snapshot
 * job QEMU may still be running, then resume unless QEMU itself stopped the guest for another
 * reason (a disk write error, a guest panic), which a resume would only repeat or hide.
 */
export async function decideAfterInterruptedSnapshot(qmp: QmpClient, marker: PauseMarker, waitMs = JOB_WAIT_MS): Promise<PauseOutcome> {
  type Job = { id: string; status: string; error?: string };
  const deadline = Date.now() + waitMs;
  for (;;) {
    const jobs = await qmp.execute<Job[]>('query-jobs', undefined, { timeoutMs: Math.max(1000, deadline - Date.now()) });
    const j = jobs.find((x) => x.id === marker.jobId);
    if (!j || j.status === 'concluded' || j.status === 'null') {
      if (j?.status === 'concluded') await qmp.execute('job-dismiss', { id: j.id }).catch(() => {});
      break;
    }
    if (Date.now() >= deadline) {
      return { action: 'keep-paused', reason: `paused for snapshot ${marker.snapshot}, whose save QEMU is still running after ${Math.round(waitMs / 1000)} s: resume it once the snapshot job ends` };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const status = await qmp.execute<{ status: string; running: boolean }>('query-status');
  if (status.running) return { action: 'none' };
  // "paused" (our stop) and "save-vm" (QEMU's own step of the save) are the snapshot's doing;
  // anything else (io-error, guest-panicked, ...) is QEMU's own reason to hold the guest.
  if (status.status === 'paused' || status.status === 'save-vm') return { action: 'resume' };
  return {
    action: 'keep-paused',
    reason: `left paused: it was paused for snapshot ${marker.snapshot} by an engine that stopped, and QEMU now reports "${status.status}"${status.status === 'io-error' ? ' (a disk write failed: is the disk full?)' : ''}; fix that, then resume it`,
  };
}
