import { describe, expect, it } from 'vitest';
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
