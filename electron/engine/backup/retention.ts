import type { BackupKeep } from '../../api/backup-types.ts';

// Retention: keep the newest good backup of each of the last `daily` days that have one and
// of each of the last `weekly` ISO weeks, and always the newest (the next incremental builds
// on it). An incremental needs every backup under it down to its full one, so keeping one
// keeps its ancestors; whatever no kept backup needs is removed, failed entries with it.
// Days and weeks are UTC, as the catalog's times are.

export interface RetainItem {
  id: string;
  startedAt: string;
  parent: string | null;
  good: boolean;
}

export function selectKept(items: RetainItem[], keep: BackupKeep): Set<string> {
  const good = items.filter((i) => i.good).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const picked = new Set<string>();
  if (good[0]) picked.add(good[0].id);
  const byBucket = (bucket: (d: Date) => string, n: number) => {
    const seen = new Set<string>();
    for (const i of good) {
      if (seen.size >= n) break;
      const b = bucket(new Date(i.startedAt));
      if (seen.has(b)) continue;
      seen.add(b);
      picked.add(i.id);
    }
  };
  byBucket((d) => d.toISOString().slice(0, 10), keep.daily);
  byBucket(isoWeek, keep.weekly);
  const byId = new Map(items.map((i) => [i.id, i]));
  const kept = new Set<string>();
  for (const id of picked) {
    for (let cur = byId.get(id); cur && !kept.has(cur.id); cur = cur.parent ? byId.get(cur.parent) : undefined) kept.add(cur.id);
  }
  return kept;
}

/** ISO 8601 week of a UTC date, as "2026-W49". */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * When a scheduled backup is next due (ms since the epoch): now when none was taken, else
 * `everyHours` after the newest good one; after a failed attempt, not before a tenth of the
 * period (at least 10 minutes) has passed since it.
 */
export function nextDueAt(everyHours: number, lastGoodAt: string | null, lastAttemptAt: string | null, now: Date): number {
  const period = everyHours * 3_600_000;
  let due = lastGoodAt ? Date.parse(lastGoodAt) + period : now.getTime();
  if (lastAttemptAt && lastAttemptAt !== lastGoodAt) due = Math.max(due, Date.parse(lastAttemptAt) + Math.max(period / 10, 600_000));
  return due;
}

export function isDue(everyHours: number, lastGoodAt: string | null, lastAttemptAt: string | null, now: Date): boolean {
  return now.getTime() >= nextDueAt(everyHours, lastGoodAt, lastAttemptAt, now);
}
