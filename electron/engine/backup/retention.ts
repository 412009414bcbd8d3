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

/** Is a scheduled backup due: never taken, or the newest good one is `everyHours` old. */
export function isDue(everyHours: number, lastGoodAt: string | null, lastAttemptAt: string | null, now: Date): boolean {
  // After a failure, wait a tenth of the period (at least 10 minutes) before trying again.
  if (lastAttemptAt && now.getTime() - Date.parse(lastAttemptAt) < Math.max(everyHours * 360_000, 600_000) && lastAttemptAt !== lastGoodAt) return false;
  if (!lastGoodAt) return true;
  return now.getTime() - Date.parse(lastGoodAt) >= everyHours * 3_600_000;
}
