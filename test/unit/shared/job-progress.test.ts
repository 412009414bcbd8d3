import { describe, expect, it } from 'vitest';
import { MIN_SPAN_MS, ProgressRate, RATE_WINDOW_MS, formatTimeLeft, secondsLeft } from '../../../electron/shared/job-progress.ts';
import { jobDetail } from '../../../renderer/src/components/JobsPanel.tsx';

// Issue 23, progress everywhere a job runs: the time left from the recent rate, and its words.

describe('secondsLeft', () => {
  it('is the rest at the rate over the window: 10% in 2 s, 60% to go → 12 s', () => {
    expect(secondsLeft([{ at: 0, fraction: 0.3 }, { at: 1000, fraction: 0.35 }, { at: 2000, fraction: 0.4 }])).toBe(12);
  });

  it('says nothing while it cannot tell: no samples, too short a span, no progress, done', () => {
    expect(secondsLeft([])).toBeNull();
    expect(secondsLeft([{ at: 0, fraction: 0.1 }, { at: MIN_SPAN_MS - 1, fraction: 0.5 }])).toBeNull();
    expect(secondsLeft([{ at: 0, fraction: 0.5 }, { at: 5000, fraction: 0.5 }])).toBeNull();
    expect(secondsLeft([{ at: 0, fraction: 0.5 }, { at: 5000, fraction: 1 }])).toBeNull();
  });

  it('uses only the recent window: a slow start does not weigh on a fast finish', () => {
    const slowStart = { at: 0, fraction: 0 };
    const recent = [{ at: 100_000, fraction: 0.5 }, { at: 100_000 + RATE_WINDOW_MS, fraction: 0.9 }];
    // 40% per 20 s at the end → 10% left takes 5 s (the whole run's average would say 30 s).
    expect(secondsLeft([slowStart, ...recent])).toBe(5);
  });
});

describe('ProgressRate', () => {
  it('estimates from what it was given and starts over when the fraction goes back (a new phase)', () => {
    const r = new ProgressRate();
    r.add(0.2, 0);
    r.add(0.4, 2000);
    expect(r.secondsLeft()).toBe(6);
    r.add(0.1, 3000);
    expect(r.secondsLeft()).toBeNull();
    r.add(0.2, 4000);
    expect(r.secondsLeft()).toBe(8);
  });

  it('keeps its samples to the window', () => {
    const r = new ProgressRate();
    for (let i = 0; i <= 100; i++) r.add(i / 200, i * 1000); // 0.5% a second for 100 s
    expect(r.secondsLeft()).toBe(100);
  });
});

describe('how a job says it', () => {
  it('formats time left in seconds, minutes, hours', () => {
    expect(formatTimeLeft(null)).toBeNull();
    expect(formatTimeLeft(0)).toBe('about 1 s left');
    expect(formatTimeLeft(42)).toBe('about 42 s left');
    expect(formatTimeLeft(150)).toBe('about 3 min left');
    expect(formatTimeLeft(3900)).toBe('about 1 h 5 min left');
    expect(formatTimeLeft(7200)).toBe('about 2 h left');
  });

  it('the jobs panel line: bytes of total and time left, for a running job only', () => {
    expect(jobDetail({ state: 'running', bytesDone: 128 * 1024 ** 2, bytesTotal: 256 * 1024 ** 2, etaSec: 12 })).toBe('128 MiB of 256 MiB · about 12 s left');
    expect(jobDetail({ state: 'running', etaSec: 75 })).toBe('about 1 min left');
    expect(jobDetail({ state: 'running' })).toBeNull();
    expect(jobDetail({ state: 'done', bytesDone: 1, bytesTotal: 1, etaSec: null })).toBeNull();
  });
});
