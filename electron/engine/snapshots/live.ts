import { readFile } from 'node:fs/promises';
import type { LibraryEntry } from '../library/library.ts';
import type { Machine } from '../vm/machine.ts';
import type { JobContext } from '../jobs.ts';
import type { SnapshotImage } from './images.ts';
import type { ImageTags } from './meta.ts';
import type { SnapshotQuiesce } from '../../api/types.ts';
import { saveTpm } from './files.ts';
import { screendump } from '../display/screenshot.ts';
import { clearPauseMarker, writePauseMarker } from './pause-marker.ts';

// Live snapshots: RAM and device state with the disks, through QEMU's snapshot-save and
// snapshot-load jobs, with the VM in a transient state (Machine.transient) while they run.

const JOB_TIMEOUT_MS = 60 * 60_000;

/** Freezes the guest's file systems through its agent; `thaw` undoes it (snapshots/service.ts `quiesce`). */
export type Quiesce = (vmId: string) => Promise<{ result: SnapshotQuiesce; thaw: () => Promise<void> }>;

export async function saveLive(entry: LibraryEntry, m: Machine, imgs: SnapshotImage[], id: string, job: JobContext, quiesce: Quiesce | null = null): Promise<{ thumb: Buffer | null; quiesce: SnapshotQuiesce | null }> {
  m.monitor('take a live snapshot of'); // refuses now if it is not running
  // The screen as it is at the moment of the snapshot; a VM without display has none.
  const thumb = await screendump(entry, m).catch(() => null);
  const prev = m.state;
  // Frozen while it still runs (a paused guest's agent cannot answer), so the disks in the
  // snapshot hold what the guest's file systems had flushed; thawed whatever happens next.
  const frozen = prev !== 'running'
    ? { result: { status: 'unavailable' as const, filesystems: null, message: 'the VM was paused: its guest agent could not freeze the file systems' }, thaw: async () => {} }
    : quiesce ? await quiesce(entry.id) : null;
  try {
    await saveTransient(entry, m, imgs, id, job, prev);
  } finally {
    await frozen?.thaw();
  }
  return { thumb, quiesce: frozen?.result ?? null };
}

async function saveTransient(entry: LibraryEntry, m: Machine, imgs: SnapshotImage[], id: string, job: JobContext, prev: Machine['state']) {
  const qmp = m.monitor('take a live snapshot of');
  await m.transient('saving', 'take a live snapshot of', async () => {
    // Paused by us (not only by QEMU inside the job) so swtpm's files, copied beside the
    // snapshot, match the RAM state being saved.
    if (prev === 'running') {
      // Noted first: an engine that dies now leaves the next one a reason to resume the guest.
      await writePauseMarker(entry.paths, id, `save-${id}`);
      await qmp.execute('stop');
    }
    try {
      await saveTpm(entry, id);
      const vmstate = await loadvmNode(m, imgs);
      await qmp.runJob(
        'snapshot-save',
        { tag: id, vmstate, devices: imgs.map((i) => i.node) },
        { jobId: `save-${id}`, onProgress: (f) => job.progress(f), timeoutMs: JOB_TIMEOUT_MS },
      );
    } finally {
      if (prev === 'running' && m.isActive) await qmp.execute('cont').then(() => clearPauseMarker(entry.paths), () => {});
    }
  });
}

/**
 * The image the RAM state goes to: the one `-loadvm` (which takes no node argument) will
 * look in, i.e. the first snapshot-capable node in QEMU's own block-backend order, which
 * `query-block` lists. With UEFI that is the variable store, not the first disk.
 */
async function loadvmNode(m: Machine, imgs: SnapshotImage[]): Promise<string> {
  const nodes = new Set(imgs.map((i) => i.node));
  type Blk = { inserted?: { 'node-name'?: string; ro?: boolean } };
  const blocks = await m.monitor('take a live snapshot of').execute<Blk[]>('query-block');
  const first = blocks.find((b) => b.inserted && !b.inserted.ro && nodes.has(b.inserted['node-name'] ?? ''));
  return first?.inserted?.['node-name'] ?? imgs[0]!.node;
}

export async function restoreLive(m: Machine, imgs: SnapshotImage[], tags: ImageTags, id: string, job: JobContext) {
  const qmp = m.monitor('restore a snapshot of');
  // Wherever it was saved: the image whose copy of the snapshot carries RAM state.
  const vmstate = imgs.find((i) => (tags.get(i.node)?.get(id)?.vmStateSize ?? 0) > 0)?.node ?? imgs[0]!.node;
  await m.transient('restoring', 'restore a snapshot of', () =>
    qmp.runJob(
      'snapshot-load',
      { tag: id, vmstate, devices: imgs.map((i) => i.node) },
      { jobId: `restore-${id}`, onProgress: (f) => job.progress(f), timeoutMs: JOB_TIMEOUT_MS },
    ),
  );
}

/** Settles a pending restore that a running QEMU may still be doing (or did) as a job. */
export async function restoreOutcome(m: Machine, id: string): Promise<'done' | 'failed' | 'running' | 'unknown'> {
  if (!m.isActive) return 'unknown';
  let argv = m.info?.argv ?? [];
  if (argv.length === 0 && m.pid) {
    // Re-attached without the state file (its starter died early): ask the kernel.
    argv = await readFile(`/proc/${m.pid}/cmdline`, 'utf8').then((t) => t.split('\0'), () => []);
  }
  const li = argv.indexOf('-loadvm');
  if (li >= 0 && argv[li + 1] === id) return 'done';
  try {
    const qmp = m.monitor('check the restore of');
    const jobs = await qmp.execute<Array<{ id: string; status: string; error?: string }>>('query-jobs');
    const j = jobs.find((x) => x.id === `restore-${id}`);
    if (!j) return 'unknown';
    if (j.status !== 'concluded') return 'running';
    await qmp.execute('job-dismiss', { id: j.id }).catch(() => {});
    return j.error ? 'failed' : 'done';
  } catch {
    return 'unknown';
  }
}
