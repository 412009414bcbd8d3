import { randomUUID } from 'node:crypto';
import { VireoError, toWireError } from '../api/errors.ts';
import type { Job } from '../api/types.ts';
import type { EventBus } from '../api/dispatch.ts';

// Long work (disk creation, conversion, snapshots, clones) runs as a job: progress events,
// cancel through an AbortSignal, and an error kept on the job for the UI's jobs panel.

export interface JobContext {
  signal: AbortSignal;
  progress(fraction: number | null): void;
  job: Job;
}

const KEEP_FINISHED = 50;
const PROGRESS_EVENT_MIN_MS = 100;

export class Jobs {
  private jobs = new Map<string, { job: Job; controller: AbortController }>();
  private lastEmit = new Map<string, number>();

  constructor(private readonly bus: EventBus) {}

  list(): Job[] {
    return [...this.jobs.values()].map((j) => ({ ...j.job }));
  }

  get(id: string): Job {
    const j = this.jobs.get(id);
    if (!j) throw new VireoError('NOT_FOUND', `no job with id "${id}"`);
    return { ...j.job };
  }

  cancel(id: string): Job {
    const j = this.jobs.get(id);
    if (!j) throw new VireoError('NOT_FOUND', `no job with id "${id}"`);
    if (j.job.state !== 'running') return { ...j.job };
    if (!j.job.cancellable) throw new VireoError('INVALID_STATE', `job "${j.job.title}" cannot be cancelled at this stage`);
    j.controller.abort();
    return { ...j.job };
  }

  async run<T>(
    spec: { kind: Job['kind']; title: string; vmId?: string | null; cancellable?: boolean },
    work: (ctx: JobContext) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const job: Job = {
      id: randomUUID(),
      kind: spec.kind,
      title: spec.title,
      vmId: spec.vmId ?? null,
      state: 'running',
      progress: 0,
      startedAt: new Date().toISOString(),
      endedAt: null,
      error: null,
      cancellable: spec.cancellable ?? true,
    };
    this.jobs.set(job.id, { job, controller });
    this.emit(job, true);
    const ctx: JobContext = {
      signal: controller.signal,
      job,
      progress: (f) => {
        job.progress = f === null ? null : Math.max(0, Math.min(1, f));
        this.emit(job, false);
      },
    };
    try {
      const result = await work(ctx);
      if (controller.signal.aborted) throw new VireoError('CANCELLED', `${spec.title}: cancelled`);
      job.state = 'done';
      job.progress = 1;
      return result;
    } catch (e) {
      const cancelled = controller.signal.aborted || (e instanceof VireoError && e.code === 'CANCELLED');
      job.state = cancelled ? 'cancelled' : 'failed';
      job.error = cancelled ? { code: 'CANCELLED', message: `${spec.title}: cancelled` } : toWireError(e);
      throw cancelled && !(e instanceof VireoError && e.code === 'CANCELLED') ? new VireoError('CANCELLED', `${spec.title}: cancelled`) : e;
    } finally {
      job.endedAt = new Date().toISOString();
      this.emit(job, true);
      this.lastEmit.delete(job.id);
      this.prune();
    }
  }

  private emit(job: Job, force: boolean) {
    const now = Date.now();
    // Progress can tick thousands of times; the UI needs a few updates a second.
    if (!force && now - (this.lastEmit.get(job.id) ?? 0) < PROGRESS_EVENT_MIN_MS) return;
    this.lastEmit.set(job.id, now);
    this.bus.emit('job.update', { ...job });
  }

  private prune() {
    const finished = [...this.jobs.values()].filter((j) => j.job.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.job.id);
  }
}
