import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Jobs } from '../../../electron/engine/jobs.ts';
import { EventBus } from '../../../electron/api/dispatch.ts';
import type { Job } from '../../../electron/api/types.ts';

describe('jobs', () => {
  it('reports start, progress and the end as events', async () => {
    const bus = new EventBus();
    const seen: Job[] = [];
    bus.on('job.update', (j) => seen.push(j));
    const jobs = new Jobs(bus);
    const r = await jobs.run({ kind: 'create', title: 'Create' }, async (ctx) => {
      ctx.progress(0.5);
      return 42;
    });
    expect(r).toBe(42);
    expect(seen[0]!.state).toBe('running');
    expect(seen.at(-1)).toMatchObject({ state: 'done', progress: 1 });
    expect(jobs.list()[0]!.state).toBe('done');
  });

  it('cancels through the signal and records the job as cancelled', async () => {
    const jobs = new Jobs(new EventBus());
    const p = jobs.run({ kind: 'convert', title: 'Convert' }, (ctx) =>
      new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    await new Promise((r) => setTimeout(r, 10));
    const running = jobs.list()[0]!;
    jobs.cancel(running.id);
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(jobs.get(running.id).state).toBe('cancelled');
  });

  it('keeps the typed error of a failed job', async () => {
    const jobs = new Jobs(new EventBus());
    await expect(jobs.run({ kind: 'create', title: 'x' }, async () => {
      throw Object.assign(new Error('disk full'), { code: 'IO_ERROR' });
    })).rejects.toThrow('disk full');
    expect(jobs.list()[0]!.error).toEqual({ code: 'IO_ERROR', message: 'disk full' });
  });
});

// Persistence: what a killed engine leaves in the jobs file, read by the next one.
describe('jobs file', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'vireo-jobs-'));
    dirs.push(d);
    return d;
  };
  /** A pid that existed and is gone now: a child that ran and exited. */
  const deadPid = async () => {
    const c = spawn('true');
    await new Promise((r) => c.once('exit', r));
    return c.pid!;
  };
  const startOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
  const record = (pid: number, start: string | null, leftovers: string[], over: Partial<Job> = {}) => ({
    job: { id: randomUUID(), kind: 'convert', title: 'Convert a.vmdk to qcow2', vmId: null, state: 'running', progress: 0.4, startedAt: new Date().toISOString(), endedAt: null, error: null, cancellable: true, ...over },
    engine: { pid, start },
    leftovers,
  });

  it('records a running job with its temp file, and forgets both once it ends', async () => {
    const file = join(tempDir(), 'jobs.json');
    const jobs = new Jobs(new EventBus(), { file });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const partial = join(dirname(file), '.out.qcow2.0123abcd.partial');
    let seen: { jobs: Array<{ job: Job; leftovers: string[]; engine: { pid: number } }> } | undefined;
    const p = jobs.run({ kind: 'convert', title: 'Convert' }, async (ctx) => {
      await ctx.leftover(partial);
      seen = JSON.parse(readFileSync(file, 'utf8'));
      await gate;
    });
    await new Promise((r) => setTimeout(r, 20));
    release();
    await p;
    expect(seen!.jobs).toHaveLength(1);
    expect(seen!.jobs[0]).toMatchObject({ job: { state: 'running', kind: 'convert' }, leftovers: [partial], engine: { pid: process.pid } });
    expect(JSON.parse(readFileSync(file, 'utf8')).jobs).toEqual([]);
  });

  it('reports a dead engine\'s running job as interrupted and removes its temp file, nothing else', async () => {
    const dir = tempDir();
    const file = join(dir, 'jobs.json');
    const partial = join(dir, '.big.qcow2.deadbeef.partial');
    const notOurs = join(dir, 'keep.qcow2'); // a jobs file must never steer a delete at other files
    writeFileSync(partial, 'x'.repeat(4096));
    writeFileSync(notOurs, 'data');
    const pid = await deadPid();
    const rec = record(pid, null, [partial, notOurs]);
    writeFileSync(file, JSON.stringify({ version: 1, jobs: [rec] }));

    const bus = new EventBus();
    const jobs = new Jobs(bus, { file });
    const interrupted = await jobs.load();
    expect(interrupted.map((j) => j.id)).toEqual([rec.job.id]);
    const listed = jobs.get(rec.job.id);
    expect(listed).toMatchObject({ state: 'interrupted', cancellable: false, error: { code: 'CANCELLED' } });
    expect(listed.endedAt).not.toBeNull();
    expect(listed.error!.message).toContain(`pid ${pid}`);
    expect(listed.error!.message).toContain('.big.qcow2.deadbeef.partial');
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(notOurs)).toBe(true);
    expect(() => jobs.cancel(rec.job.id)).not.toThrow();

    // Still reported after one more restart, no longer as something to clean.
    const again = new Jobs(bus, { file });
    expect(await again.load()).toEqual([]);
    expect(again.get(rec.job.id).state).toBe('interrupted');
  });

  /** A jobs file naming a running process (alive) as the engine, with the start time `start` gives it. */
  const withLiveProcess = (name: string, start: (pid: number) => string) => {
    const dir = tempDir();
    const file = join(dir, 'jobs.json');
    const partial = join(dir, name);
    writeFileSync(partial, 'x');
    const other = spawn('sleep', ['30']);
    children.push(other);
    const rec = record(other.pid!, start(other.pid!), [partial]);
    writeFileSync(file, JSON.stringify({ version: 1, jobs: [rec] }));
    return { file, partial, rec, jobs: new Jobs(new EventBus(), { file }) };
  };

  it('leaves a live engine\'s job and temp file alone, and keeps its record', async () => {
    const { file, partial, rec, jobs } = withLiveProcess('.live.qcow2.cafef00d.partial', startOf);
    expect(await jobs.load()).toEqual([]);
    expect(jobs.list()).toEqual([]);
    expect(existsSync(partial)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).jobs.map((r: { job: Job }) => r.job.id)).toEqual([rec.job.id]);
  });

  it('treats a reused pid (same number, another start time) as a dead engine', async () => {
    const { partial, jobs } = withLiveProcess('.reuse.qcow2.00ff00ff.partial', () => '1');
    expect((await jobs.load()).map((j) => j.state)).toEqual(['interrupted']);
    expect(existsSync(partial)).toBe(false);
  });

  it('starts clean from a missing or unreadable jobs file', async () => {
    const dir = tempDir();
    const file = join(dir, 'jobs.json');
    expect(await new Jobs(new EventBus(), { file }).load()).toEqual([]);
    writeFileSync(file, '{ torn');
    const jobs = new Jobs(new EventBus(), { file });
    expect(await jobs.load()).toEqual([]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, jobs: [] });
  });
});
