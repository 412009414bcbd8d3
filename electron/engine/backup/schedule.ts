import type { BackupEntry, BackupKeep, BackupPruneResult, BackupSchedule } from '../../api/backup-types.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { EngineParts } from '../parts.ts';
import { newestGood, readCatalog, readSettings, vmBackupDir } from './catalog.ts';
import { nextDueAt } from './retention.ts';

// Scheduled backups (a VM's backup.json: every N hours, incremental or full, prune after)
// taken while the engine runs.

const SCHEDULE_TICK_MS = 60_000;
const MIN_TICK_MS = 1000;

/** What the scheduler needs of the backup service. */
export interface ScheduledBackups {
  backup(ref: string, opts: { to?: string | null; incremental?: boolean; scheduled?: boolean }): Promise<BackupEntry>;
  prune(ref: string, keep: BackupKeep): Promise<BackupPruneResult>;
}

export class BackupScheduler {
  private timer: NodeJS.Timeout | null = null;
  private scheduling = false;
  private on = false;

  constructor(
    private readonly p: EngineParts,
    private readonly svc: ScheduledBackups,
  ) {}

  /**
   * Scheduled backups while this engine runs: a timer set for the earliest due backup (checked
   * at least every minute, so a clock change or another engine's backup is noticed), re-set
   * after each round and whenever a schedule changes.
   */
  start(): void {
    this.on = true;
    void this.rearm();
  }

  stop(): void {
    this.on = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async rearm(): Promise<void> {
    if (!this.on) return;
    const now = new Date();
    let next = now.getTime() + SCHEDULE_TICK_MS;
    for (const s of await this.schedules()) next = Math.min(next, s.dueAt);
    if (!this.on) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(new Date()).finally(() => void this.rearm()), Math.max(MIN_TICK_MS, next - now.getTime()));
    this.timer.unref();
  }

  private async schedules(): Promise<Array<{ entry: LibraryEntry; target: string; schedule: BackupSchedule; dueAt: number }>> {
    const out = [];
    for (const entry of this.p.library.list()) {
      if (!entry.config) continue;
      const s = await readSettings(entry.paths.dir);
      if (!s.schedule || !s.target) continue;
      const c = await readCatalog(vmBackupDir(s.target, entry.id), entry.id, entry.config.name).catch(() => null);
      if (!c) continue;
      const newest = [...c.backups].sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
      out.push({ entry, target: s.target, schedule: s.schedule, dueAt: nextDueAt(s.schedule.everyHours, newestGood(c)?.startedAt ?? null, newest?.startedAt ?? null, new Date()) });
    }
    return out;
  }

  /** Takes every scheduled backup due at `now`; returns the VMs backed up. */
  async tick(now: Date): Promise<string[]> {
    if (this.scheduling) return [];
    this.scheduling = true;
    const ran: string[] = [];
    try {
      for (const s of await this.schedules()) {
        if (s.dueAt > now.getTime()) continue;
        try {
          await this.svc.backup(s.entry.id, { to: s.target, incremental: s.schedule.incremental, scheduled: true });
          if (s.schedule.keep) await this.svc.prune(s.entry.id, s.schedule.keep);
          ran.push(s.entry.id);
        } catch {
          /* recorded as a failed entry and a failed job; retried once the retry wait has passed */
        }
      }
    } finally {
      this.scheduling = false;
    }
    return ran;
  }
}
