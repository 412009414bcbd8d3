import { describe, expect, it } from 'vitest';
import { isDue, isoWeek, selectKept, type RetainItem } from '../../../electron/engine/backup/retention.ts';

// Retention and the schedule's due rule (engine/backup/retention.ts), pure.

const item = (id: string, startedAt: string, parent: string | null = null, good = true): RetainItem => ({ id, startedAt, parent, good });

describe('backup retention', () => {
  it('keeps the newest per day for N days and per ISO week for M weeks, and the chain under each kept incremental', () => {
    const items = [
      item('f1', '2026-11-02T10:00:00Z'), // week 45
      item('i1', '2026-11-03T10:00:00Z', 'f1'),
      item('f2', '2026-11-20T10:00:00Z'), // week 47
      item('i2', '2026-11-30T09:00:00Z', 'f2'), // Monday, week 49
      item('i3', '2026-11-30T18:00:00Z', 'i2'),
      item('x', '2026-12-01T08:00:00Z', 'i3', false), // failed: never kept
      item('i4', '2026-12-01T09:00:00Z', 'i3'),
    ];
    // 1 daily: i4 (today), its chain i3 i2 f2.
    expect([...selectKept(items, { daily: 1, weekly: 0 })].sort()).toEqual(['f2', 'i2', 'i3', 'i4']);
    // 2 daily: also 30 Nov's newest (i3, already in the chain).
    expect([...selectKept(items, { daily: 2, weekly: 0 })].sort()).toEqual(['f2', 'i2', 'i3', 'i4']);
    // 3 weekly: weeks 49 (i4), 47 (f2), 45 (i1 and its full).
    expect([...selectKept(items, { daily: 0, weekly: 3 })].sort()).toEqual(['f1', 'f2', 'i1', 'i2', 'i3', 'i4']);
  });

  it('always keeps the newest good backup (the next incremental builds on it)', () => {
    expect([...selectKept([item('f', '2026-01-01T00:00:00Z')], { daily: 0, weekly: 0 })]).toEqual(['f']);
  });

  it('names ISO weeks across a year end', () => {
    expect(isoWeek(new Date('2026-12-01T00:00:00Z'))).toBe('2026-W49');
    expect(isoWeek(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(new Date('2025-12-29T00:00:00Z'))).toBe('2026-W01');
  });

  it('is due when never taken or the period has passed; after a failure it waits a while before retrying', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(isDue(24, null, null, now)).toBe(true);
    expect(isDue(24, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', now)).toBe(false);
    expect(isDue(6, '2026-12-01T05:00:00Z', '2026-12-01T05:00:00Z', now)).toBe(true);
    // The last attempt (failed) 5 minutes ago: not yet, though the last good one is old.
    expect(isDue(6, '2026-11-30T00:00:00Z', '2026-12-01T11:55:00Z', now)).toBe(false);
    expect(isDue(6, '2026-11-30T00:00:00Z', '2026-12-01T11:00:00Z', now)).toBe(true);
  });
});
