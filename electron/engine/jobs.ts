import { randomUUID } from 'node:crypto';
import { lstat, readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { VireoError, toWireError } from '../api/errors.ts';
import type { Job } from '../api/types.ts';
import type { EventBus } from '../api/dispatch.ts';
import { writeJsonAtomic } from './util/fs-atomic.ts';
import { ProgressRate } from '../shared/job-progress.ts';
import { engineSelf, isAlive, type EngineId } from './util/engine-id.ts';

// Long work (disk creation, conversion, snapshots, clones) runs as a job: progress events,
// cancel through an AbortSignal, and an error kept on the job for the UI's jobs panel.
// Running jobs are also written to the library's jobs file, so that an engine killed with
// them (kill -9, a power cut) is followed by one that lists them as interrupted and removes
// the temp files they had started, instead of forgetting them and leaving gigabytes behind.

export interface JobContext {
  signal: AbortSignal;
  progress(fraction: number | null): void;
  /**
   * The size of the work in bytes, when it is a copy of known size (a conversion, a clone's
   * disks, a VM's memory): the job then shows bytes done (that share of it) beside its percent.
   */
  bytes(total: number | null): void;
  job: Job;
  /**
   * Record a temp file this job is about to write: if the engine dies before the job ends, the
   * next engine deletes it. Awaited, so the record is on disk before the first byte of the file.
   */
  leftover(path: string): Promise<void>;
}

export interface JobsOptions {
  /** where running jobs are recorded (`<library>/jobs.json`); none: kept in memory only */
  file?: string;
}


interface JobRecord {
  job: Job;
  engine: EngineId;
  leftovers: string[];
}

interface JobsFile {
  version: 1;
  jobs: JobRecord[];
}

const KEEP_FINISHED = 50;
const PROGRESS_EVENT_MIN_MS = 100;
/** Only files of the shape our conversions write are deleted, whatever a jobs file says. */
const LEFTOVER_RE = /^\..+\.[0-9a-f]{8}\.partial$/;

export class Jobs {
  private jobs = new Map<string, { job: Job; controller: AbortController | null; leftovers: string[] }>();
  private lastEmit = new Map<string, number>();
  /** running jobs of another live engine found in the file: kept there untouched */
  private foreign: JobRecord[] = [];
  private writing: Promise<void> = Promise.resolve();
  private persistFailing = false;
  private readonly self: EngineId = engineSelf();

  constructor(
    private readonly bus: EventBus,
    private readonly opts: JobsOptions = {},
  ) {}

  /**
   * Read the jobs file left by earlier engines: their running jobs become interrupted (with
   * their temp files removed) and stay listed. Call once, as the library's owner, before work.
   */
  async load(): Promise<Job[]> {
    if (!this.opts.file) return [];
    const saved = await readJobsFile(this.opts.file);
    const interrupted: Job[] = [];
    for (const r of saved.jobs) {
      if (r.job.state === 'running' && isAlive(r.engine)) {
        this.foreign.push(r);
        continue;
      }
      if (this.jobs.has(r.job.id)) continue;
      const job: Job = { ...r.job };
      if (job.state === 'running') {
        const removed = await removeLeftovers(r.leftovers);
        job.state = 'interrupted';
        job.endedAt = job.endedAt ?? new Date().toISOString();
        job.cancellable = false;
        const cleaned = removed.length ? `; its unfinished ${removed.map((p) => basename(p)).join(', ')} was removed` : '';
        job.error = {
          code: 'CANCELLED',
          message: `${job.title}: interrupted, the engine running it (pid ${r.engine.pid}) stopped before it finished${cleaned}: run it again`,
        };
        interrupted.push(job);
      }
      this.jobs.set(job.id, { job, controller: null, leftovers: [] });
    }
    this.prune();
    await this.persist();
    return interrupted;
  }

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
    if (j.job.state !== 'running' || !j.controller) return { ...j.job };
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
    const slot = { job, controller, leftovers: [] as string[] };
    this.jobs.set(job.id, slot);
    this.emit(job, true);
    await this.persist();
    const rate = new ProgressRate();
    const ctx: JobContext = {
      signal: controller.signal,
      job,
      progress: (f) => {
        job.progress = f === null ? null : Math.max(0, Math.min(1, f));
        if (job.progress !== null) rate.add(job.progress, Date.now());
        job.etaSec = job.progress === null ? null : rate.secondsLeft();
        if (job.bytesTotal != null) job.bytesDone = job.progress === null ? null : Math.round(job.progress * job.bytesTotal);
        this.emit(job, false);
      },
      bytes: (total) => {
        job.bytesTotal = total;
        job.bytesDone = total === null || job.progress === null ? null : Math.round(job.progress * total);
        this.emit(job, false);
      },
      leftover: async (path) => {
        slot.leftovers.push(path);
        await this.persist();
      },
    };
    try {
      const result = await work(ctx);
      if (controller.signal.aborted) throw new VireoError('CANCELLED', `${spec.title}: cancelled`);
      job.state = 'done';
      job.progress = 1;
      if (job.bytesTotal != null) job.bytesDone = job.bytesTotal;
      return result;
    } catch (e) {
      const cancelled = controller.signal.aborted || (e instanceof VireoError && e.code === 'CANCELLED');
      job.state = cancelled ? 'cancelled' : 'failed';
      job.error = cancelled ? { code: 'CANCELLED', message: `${spec.title}: cancelled` } : toWireError(e);
      throw cancelled && !(e instanceof VireoError && e.code === 'CANCELLED') ? new VireoError('CANCELLED', `${spec.title}: cancelled`) : e;
    } finally {
      job.endedAt = new Date().toISOString();
      job.etaSec = null;
      slot.leftovers = [];
      this.emit(job, true);
      this.lastEmit.delete(job.id);
      this.prune();
      await this.persist();
    }
  }

  /** Writes queue up so the file always ends with the latest state; a failed write never fails a job. */
  private persist(): Promise<void> {
    const file = this.opts.file;
    if (!file) return Promise.resolve();
    this.writing = this.writing.then(async () => {
      // Running jobs (to be found if we die) and interrupted ones (so they stay reported
      // after another restart); finished ones were reported live and need no record.
      const mine: JobRecord[] = [...this.jobs.values()]
        .filter((j) => j.job.state === 'running' || j.job.state === 'interrupted')
        .map((j) => ({ job: { ...j.job }, engine: this.self, leftovers: [...j.leftovers] }));
      const data: JobsFile = { version: 1, jobs: [...this.foreign, ...mine] };
      try {
        await writeJsonAtomic(file, data, 0o600);
        this.persistFailing = false;
      } catch (e) {
        // Once per outage: a full disk fails every write until someone frees space.
        if (!this.persistFailing) process.emitWarning(`vireo: could not record jobs in ${file}: ${(e as Error).message}`);
        this.persistFailing = true;
      }
    });
    return this.writing;
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

async function readJobsFile(file: string): Promise<JobsFile> {
  try {
    const j = JSON.parse(await readFile(file, 'utf8')) as Partial<JobsFile>;
    const jobs = Array.isArray(j.jobs) ? j.jobs.filter(isRecord) : [];
    return { version: 1, jobs };
  } catch {
    // Missing (first start) or unreadable: nothing to report, and the next write replaces it.
    return { version: 1, jobs: [] };
  }
}

function isRecord(x: unknown): x is JobRecord {
  const r = x as JobRecord;
  return (
    !!r && typeof r === 'object' && !!r.job && typeof r.job.id === 'string' && typeof r.job.title === 'string' && typeof r.job.state === 'string' &&
    !!r.engine && typeof r.engine.pid === 'number' && Array.isArray(r.leftovers) && r.leftovers.every((p) => typeof p === 'string')
  );
}

/** Deletes the temp files a dead engine's job recorded; returns the ones it removed. */
async function removeLeftovers(paths: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const p of paths) {
    if (!LEFTOVER_RE.test(basename(p))) continue;
    const st = await lstat(p).catch(() => null);
    // A regular file only: a symlink planted under that name must not steer a delete elsewhere.
    if (!st?.isFile()) continue;
    // One that cannot be removed (permissions, a read-only mount) must not stop the engine.
    if (await rm(p, { force: true }).then(() => true, () => false)) removed.push(p);
  }
  return removed;
}

