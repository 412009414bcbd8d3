import { setTimeout as sleep } from 'node:timers/promises';
import { VireoError } from '../../api/errors.ts';
import type { QmpCommander } from '../qmp/types.ts';

// One backup point of a VM's disks through QMP, the same for a running VM (its QEMU) and a
// stopped one (a qemu-storage-daemon on its images, offline.ts).
//
// Each backup point has its own persistent dirty bitmap, named after it (vireo-bk-<id>): it is
// added in the same transaction that starts the backup jobs, so it counts exactly the writes
// after the point the backup copies (blockdev-backup is point-in-time: copy-before-write
// keeps the old data of clusters the guest overwrites while the job runs). An incremental
// copies what its parent's bitmap marks (sync=bitmap, bitmap-mode=never: the parent's bitmap
// is left untouched whatever happens) into a qcow2 whose backing file is the parent's. Only
// when the backup is complete is the parent's bitmap removed; a failed or interrupted one
// removes its own new bitmap (or leaves it to recovery), so the chain's newest good backup and
// the bitmap named after it always agree, and a missing or inconsistent one (QEMU killed:
// persistent bitmaps are written when an image closes) means "take a full backup".

export const BITMAP_PREFIX = 'vireo-bk-';
export const JOB_PREFIX = 'vireo-backup-';
export const TARGET_PREFIX = 'vbk-';
export const bitmapName = (backupId: string) => `${BITMAP_PREFIX}${backupId}`;

export interface DiskTarget {
  /** the VM's disk id */
  disk: string;
  /** its format node in QEMU */
  node: string;
  /** the qcow2 created for this backup (with its parent's file as backing for an incremental) */
  tmp: string;
}

export interface BitmapInfo {
  name: string;
  persistent: boolean;
  inconsistent: boolean;
  busy: boolean;
}

export async function bitmapsOf(qmp: QmpCommander, node: string): Promise<BitmapInfo[]> {
  type Node = { 'node-name'?: string; 'dirty-bitmaps'?: Array<{ name?: string; persistent?: boolean; inconsistent?: boolean; busy?: boolean }> };
  const nodes = await qmp.execute<Node[]>('query-named-block-nodes', { flat: true });
  const n = nodes.find((x) => x['node-name'] === node);
  if (!n) throw new VireoError('NOT_FOUND', `QEMU has no block node "${node}": the VM's disks changed since it started; restart it and back up again`, { node });
  return (n['dirty-bitmaps'] ?? []).filter((b) => b.name).map((b) => ({ name: b.name!, persistent: !!b.persistent, inconsistent: !!b.inconsistent, busy: !!b.busy }));
}

export interface RunBackupOptions {
  backupId: string;
  /** the parent's id for an incremental, null for a full backup */
  parentId: string | null;
  signal: AbortSignal;
  progress(fraction: number): void;
  /** freezes the guest's file systems; the jobs start while frozen, thaw follows at once */
  freeze?: () => Promise<() => Promise<void>>;
  /** runs right after the transaction started the jobs (before the thaw): state kept beside the disks */
  atPoint?: () => Promise<void>;
}

export async function runBackup(qmp: QmpCommander, disks: DiskTarget[], o: RunBackupOptions): Promise<void> {
  const target = (d: DiskTarget) => `${TARGET_PREFIX}${d.disk}`;
  const jobId = (d: DiskTarget) => `${JOB_PREFIX}${d.disk}`;
  const added: DiskTarget[] = [];
  let started = false;
  try {
    for (const d of disks) {
      await qmp.execute('blockdev-add', {
        driver: 'qcow2',
        'node-name': target(d),
        file: { driver: 'file', filename: d.tmp },
        // An incremental's backing file is the parent backup: never opened here, only named in
        // its header for whoever reads the chain later.
        backing: null,
      });
      added.push(d);
    }
    if (o.signal.aborted) throw new VireoError('CANCELLED', 'the backup was cancelled before it started');
    const actions = disks.flatMap((d) => [
      { type: 'block-dirty-bitmap-add', data: { node: d.node, name: bitmapName(o.backupId), persistent: true } },
      {
        type: 'blockdev-backup',
        data: {
          'job-id': jobId(d),
          device: d.node,
          target: target(d),
          ...(o.parentId ? { sync: 'bitmap', bitmap: bitmapName(o.parentId), 'bitmap-mode': 'never' } : { sync: 'full' }),
          'auto-dismiss': false,
        },
      },
    ]);
    const thaw = o.freeze ? await o.freeze() : null;
    try {
      await qmp.execute('transaction', { actions });
      started = true;
      await o.atPoint?.();
    } finally {
      await thaw?.();
    }
    await waitJobs(qmp, disks.map(jobId), o);
    for (const d of added.splice(0)) await qmp.execute('blockdev-del', { 'node-name': target(d) });
    // Complete: the parent's bitmap (and any older one of ours) has done its work.
    for (const d of disks) {
      for (const b of await bitmapsOf(qmp, d.node)) {
        if (b.name.startsWith(BITMAP_PREFIX) && b.name !== bitmapName(o.backupId)) await qmp.execute('block-dirty-bitmap-remove', { node: d.node, name: b.name }).catch(() => {});
      }
    }
  } catch (e) {
    await cleanupAfterFailure(qmp, disks, o.backupId, started);
    throw e;
  } finally {
    for (const d of added) await qmp.execute('blockdev-del', { 'node-name': target(d) }).catch(() => {});
  }
}

/** Cancels our jobs still there, drops their targets and the new bitmap: the parent's stays. */
export async function cleanupAfterFailure(qmp: QmpCommander, disks: Array<Pick<DiskTarget, 'disk' | 'node'>>, backupId: string | null, started = true): Promise<void> {
  if (started) await cancelOurJobs(qmp);
  for (const d of disks) {
    await qmp.execute('blockdev-del', { 'node-name': `${TARGET_PREFIX}${d.disk}` }).catch(() => {});
    if (backupId) await qmp.execute('block-dirty-bitmap-remove', { node: d.node, name: bitmapName(backupId) }).catch(() => {});
  }
}

type QJob = { id: string; status: string; 'current-progress': number; 'total-progress': number; error?: string };

/** Our backup jobs in QEMU (a killed engine's too): cancelled, waited for, dismissed. */
export async function cancelOurJobs(qmp: QmpCommander): Promise<void> {
  const ours = (await qmp.execute<QJob[]>('query-jobs')).filter((j) => j.id.startsWith(JOB_PREFIX));
  for (const j of ours) if (j.status !== 'concluded') await qmp.execute('job-cancel', { id: j.id }).catch(() => {});
  for (let i = 0; i < 600; i++) {
    const left = (await qmp.execute<QJob[]>('query-jobs')).filter((j) => j.id.startsWith(JOB_PREFIX));
    for (const j of left) if (j.status === 'concluded') await qmp.execute('job-dismiss', { id: j.id }).catch(() => {});
    if (left.every((j) => j.status === 'concluded')) return;
    await sleep(100);
  }
}

async function waitJobs(qmp: QmpCommander, ids: string[], o: RunBackupOptions): Promise<void> {
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    for (const id of ids) qmp.execute('job-cancel', { id }).catch(() => {});
  };
  o.signal.addEventListener('abort', onAbort, { once: true });
  // Asked often at first (a small or incremental backup ends within a second: a fixed 200 ms
  // step was most of its time), then every 200 ms.
  const started = Date.now();
  try {
    for (;;) {
      const jobs = (await qmp.execute<QJob[]>('query-jobs')).filter((j) => ids.includes(j.id));
      const total = jobs.reduce((s, j) => s + (j['total-progress'] || 0), 0);
      const cur = jobs.reduce((s, j) => s + (j['current-progress'] || 0), 0);
      if (total > 0) o.progress(Math.min(1, cur / total));
      if (jobs.length < ids.length) throw new VireoError('NOT_FOUND', 'a backup job disappeared from QEMU before it ended (another client dismissed it?): take the backup again', { ids });
      if (jobs.every((j) => j.status === 'concluded')) {
        for (const j of jobs) await qmp.execute('job-dismiss', { id: j.id }).catch(() => {});
        const failed = jobs.find((j) => j.error);
        if (cancelled) throw new VireoError('CANCELLED', 'the backup was cancelled');
        if (failed) throw new VireoError('QEMU_FAILED', `QEMU's backup of ${failed.id.slice(JOB_PREFIX.length)} failed: ${failed.error}`, { job: failed.id });
        return;
      }
      await sleep(Date.now() - started < 2000 ? 20 : 200);
    }
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}
