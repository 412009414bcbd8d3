import { VireoError } from '../../api/errors.ts';
import type { QmpCommander, QmpEvent } from './types.ts';
import { QmpError } from './errors.ts';

// QMP background jobs (QEMU ≥ 6.0 for snapshot-save/-load/-delete). The command only starts
// the job; its end is the JOB_STATUS_CHANGE event to "concluded", its outcome the `error`
// field of query-jobs, and a job created with manual dismiss (the snapshot jobs are) stays
// listed until job-dismiss. Progress is only in query-jobs, so we poll it, sparingly.

/** One entry of `query-jobs` (QAPI JobInfo). */
export interface JobInfo {
  id: string;
  type: string;
  /** created, running, paused, ready, standby, waiting, pending, aborting, concluded, null */
  status: string;
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

export interface RunJobOptions {
  jobId: string;
  /** fraction 0..1 (from current-progress / total-progress) and the raw job entry */
  onProgress?: (fraction: number, job: JobInfo) => void;
  /**
   * abort → job-cancel; the job is awaited and dismissed, and the call rejects CANCELLED unless
   * the job had already finished successfully (then its result stands)
   */
  signal?: AbortSignal;
  /** overall limit; default none (a RAM snapshot of a big guest takes minutes) */
  timeoutMs?: number;
  /** how often query-jobs is polled while the job runs; default 250 ms */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 250;
const MAX_STALL_MS = 24 * 3600_000;

const fractionOf = (j: JobInfo): number => {
  const total = j['total-progress'];
  if (!(total > 0)) return 0;
  return Math.min(1, Math.max(0, j['current-progress'] / total));
};

/**
 * Start `command` as job `jobId` and wait for its end. Resolves with the final job entry;
 * rejects with QmpError (errorClass 'JobFailed', the job's error text as message) when the
 * job failed, CANCELLED when aborted, TIMEOUT, or QMP_DISCONNECTED if QEMU went away.
 */
export async function runJob(
  client: QmpCommander,
  command: string,
  args: Record<string, unknown>,
  opts: RunJobOptions,
): Promise<JobInfo> {
  const { jobId } = opts;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  if (opts.signal?.aborted) {
    throw new VireoError('CANCELLED', `${command} job ${jobId} was cancelled before it started`, { command, jobId });
  }

  // Listen before the command is sent: a fast job may conclude before its reply is read.
  let concluded = false;
  let wake: (() => void) | null = null;
  const onEvent = (e: QmpEvent) => {
    if (e.event !== 'JOB_STATUS_CHANGE') return;
    const d = e.data as { id?: string; status?: string };
    if (d.id !== jobId) return;
    if (d.status === 'concluded' || d.status === 'null') concluded = true;
    wake?.();
  };
  let disconnected = false;
  const onClose = () => {
    disconnected = true;
    wake?.();
  };
  let cancelRequested = false;
  const onAbort = () => {
    cancelRequested = true;
    // The job may already be concluded (then job-cancel fails): the outcome decides.
    client.execute('job-cancel', { id: jobId }).catch(() => {});
    wake?.();
  };
  client.on('event', onEvent);
  client.on('close', onClose);
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;

  // QEMU 7.2 runs a snapshot job's work in the main loop, so the monitor does not answer
  // until it is done: query-jobs may stall for as long as the job runs, not 30 s.
  const findJob = async (): Promise<JobInfo | undefined> => {
    const timeoutMs = Math.max(1000, Math.min(deadline - Date.now(), MAX_STALL_MS));
    return (await client.execute<JobInfo[]>('query-jobs', undefined, { timeoutMs })).find((j) => j.id === jobId);
  };

  try {
    await client.execute(command, { ...args, 'job-id': jobId });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();

    let last: JobInfo | undefined;
    for (;;) {
      if (disconnected) {
        throw new VireoError('QMP_DISCONNECTED', `QEMU went away while ${command} job ${jobId} was running`, { command, jobId });
      }
      const job = await findJob();
      if (!job) {
        // Gone without our dismiss: an auto-dismissed job, or another client dismissed it.
        if (last?.status === 'concluded' || concluded) {
          last = last ? { ...last, status: 'null' } : undefined;
          break;
        }
        throw new VireoError('NOT_FOUND', `${command} job ${jobId} disappeared from query-jobs before it concluded`, { command, jobId });
      }
      last = job;
      if (job.status === 'concluded') break;
      opts.onProgress?.(fractionOf(job), job);
      if (Date.now() >= deadline) {
        await client.execute('job-cancel', { id: jobId }).catch(() => {});
        throw new VireoError('TIMEOUT', `${command} job ${jobId} did not finish within ${opts.timeoutMs} ms; it was asked to cancel`, {
          command,
          jobId,
          timeoutMs: opts.timeoutMs,
        });
      }
      if (!concluded) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(pollMs, Math.max(deadline - Date.now(), 0)));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
    }

    if (last && last.status === 'concluded') {
      await client.execute('job-dismiss', { id: jobId }).catch(() => {});
    }
    // A cancel that came too late leaves a finished job: its result stands, as in QEMU.
    if (cancelRequested && last?.error) {
      throw new VireoError('CANCELLED', `${command} job ${jobId} was cancelled`, { command, jobId, desc: last.error });
    }
    if (last?.error) {
      throw new QmpError(command, 'JobFailed', `${command} job ${jobId} failed: ${last.error}`, { jobId, desc: last.error });
    }
    if (last) opts.onProgress?.(1, last);
    return last ?? { id: jobId, type: command, status: 'null', 'current-progress': 1, 'total-progress': 1 };
  } finally {
    client.off('event', onEvent);
    client.off('close', onClose);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
