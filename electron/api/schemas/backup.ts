import { z } from 'zod';

// Argument shapes of the backup.* methods (engine/backup/).

/** Catalog ids: a UTC time stamp and a random tail (20261201T194500Z-1a2b), never a path. */
export const BackupId = z.string().regex(/^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$/, 'a backup id looks like 20261201T194500Z-1a2b: see vireo backup ls');

export const BackupKeepArgs = z.object({
  daily: z.number().int().min(0).max(366),
  weekly: z.number().int().min(0).max(520),
}).strict().refine((k) => k.daily + k.weekly > 0, 'keep at least one daily or weekly backup (daily + weekly > 0)');

export const BackupScheduleArgs = z.object({
  everyHours: z.number().positive().max(24 * 366),
  incremental: z.boolean().default(true),
  keep: BackupKeepArgs.nullable().default(null),
}).strict();
