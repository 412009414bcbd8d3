import { describe, expect, it } from 'vitest';
import { retryUntilAnswered } from '../../../renderer/src/lib/retry.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('retryUntilAnswered', () => {
  it('asks again after each failure, with growing waits, until an answer, then stops asking', async () => {
    const asked: number[] = [];
    const failures: number[] = [];
    let answer: string | null = null;
    const t0 = Date.now();
    retryUntilAnswered(
      () => {
        asked.push(Date.now() - t0);
        return asked.length < 3 ? Promise.reject(new Error('connection lost')) : Promise.resolve('the list');
      },
      (v) => (answer = v),
      { firstDelayMs: 10, maxDelayMs: 15, onFailure: (_e, n) => failures.push(n) },
    );
    await tick(120);
    expect(answer).toBe('the list');
    expect(asked).toHaveLength(3);
    expect(failures).toEqual([1, 2]);
    // 10 ms, then 15 (the cap), between the asks.
    expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(9);
    expect(asked[2]! - asked[1]!).toBeGreaterThanOrEqual(14);
  });

  it('stop() ends the retries and drops a late answer', async () => {
    let calls = 0;
    let answered = false;
    const r = retryUntilAnswered(() => (++calls, Promise.reject(new Error('down'))), () => (answered = true), { firstDelayMs: 5 });
    await tick(30);
    r.stop();
    const seen = calls;
    await tick(60);
    expect(calls).toBe(seen);
    expect(seen).toBeGreaterThan(1);

    let resolve!: (v: number) => void;
    const late = retryUntilAnswered(() => new Promise<number>((res) => (resolve = res)), () => (answered = true));
    late.stop();
    resolve(1);
    await tick(5);
    expect(answered).toBe(false);
  });
});
