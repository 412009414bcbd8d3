import { resolve } from 'node:path';
import type { BackupCatalog, BackupEntry, BackupPruneResult, BackupVerifyResult } from '../../api/backup-types.ts';
import type { VmDetails } from '../../api/types.ts';
import { formatBytes } from '../../shared/size.ts';
import { backupContents } from '../../shared/backup-contents.ts';
import type { CliKit, Registrar } from '../kit.ts';
import { table } from '../output.ts';

// `vireo backup VM --to DIR [--incremental]` and `vireo backup ls|verify|restore|prune|schedule`:
// the engine's backups (engine/backup/). Folders are resolved here, in the user's folder.

function formatEntry(b: BackupEntry): string {
  const lines = [`${b.id}: ${b.state} ${b.type} backup of ${backupContents(b)}, ${formatBytes(b.bytes)}${b.parent ? ` on top of ${b.parent}` : ''}`];
  if (b.quiesce) lines.push(`  guest file systems: ${b.quiesce}`);
  if (b.note) lines.push(`  note: ${b.note}`);
  if (b.error) lines.push(`  error: ${b.error}`);
  return lines.join('\n');
}

function formatCatalog(c: BackupCatalog): string {
  const head = `backups of "${c.vmName}" in ${c.dir ?? '(no folder chosen yet)'}${c.schedule ? `; every ${c.schedule.everyHours} h${c.schedule.incremental ? ', incremental' : ''}${c.schedule.keep ? `, keeping ${c.schedule.keep.daily} daily / ${c.schedule.keep.weekly} weekly` : ''}` : ''}`;
  if (!c.backups.length) return `${head}\nno backups yet`;
  return [head, table([['ID', 'TYPE', 'STATE', 'HOLDS', 'SIZE', 'CHAIN', 'TAKEN', 'VERIFIED'], ...c.backups.map((b) => [
    b.id, b.type, b.state, backupContents(b), formatBytes(b.bytes), b.chain, b.startedAt, b.verified ? (b.verified.ok ? `ok ${b.verified.at}` : 'FAILED') : '-',
  ])])].join('\n');
}

export const registerBackup: Registrar = (kit: CliKit) => {
  const group = kit.program.command('backup').description("back up a VM's disks (full or incremental), list, verify, restore and prune its backups");

  group.command('take <vm>', { isDefault: true })
    .description('back up a VM, running or stopped (vireo backup VM --to DIR)')
    .option('--to <dir>', 'the folder to back up into (default: the one used last); backups go to <dir>/<vm id>/')
    .option('--incremental', 'only what changed since the newest good backup (full when that cannot be known)')
    .action(kit.action(async (vm: string, o: { to?: string; incremental?: boolean }) => {
      const r = await kit.call('backup.run', { vm, ...(o.to ? { to: resolve(o.to) } : {}), incremental: !!o.incremental });
      kit.print(r, formatEntry as (r: never) => string);
    }));

  group.command('ls <vm>')
    .description("a VM's backups, newest first")
    .action(kit.action(async (vm: string) => kit.print(await kit.call('backup.list', { vm }), formatCatalog as (r: never) => string)));

  group.command('verify <vm> [backup]')
    .description('check a backup chain, restore it to a temp copy and compare (default: the newest good backup)')
    .action(kit.action(async (vm: string, backup: string | undefined) => {
      const r = await kit.call('backup.verify', { vm, ...(backup ? { backup } : {}) });
      kit.print(r, ((x: BackupVerifyResult) => `${x.backup}: ${x.ok ? 'ok' : 'FAILED'}: ${x.message}`) as (r: never) => string);
      if (!r.ok) process.exitCode = 1;
    }));

  group.command('restore <vm> [backup]')
    .description('restore a backup (default: the newest good one) in place (the VM stopped) or, with --new, to a new VM')
    .option('--new <name>', 'create a new VM with this name from the backup instead')
    .action(kit.action(async (vm: string, backup: string | undefined, o: { new?: string }) => {
      const r = await kit.call('backup.restore', { vm, ...(backup ? { backup } : {}), ...(o.new ? { newName: o.new } : {}) });
      kit.print(r, ((v: VmDetails) => `restored into "${v.name}" (${v.id})`) as (r: never) => string);
    }));

  group.command('prune <vm>')
    .description('delete backups beyond the newest per day and per week (kept incrementals keep their chain)')
    .option('--daily <n>', 'days to keep one backup of', kit.intArg, 7)
    .option('--weekly <n>', 'weeks to keep one backup of', kit.intArg, 4)
    .action(kit.action(async (vm: string, o: { daily: number; weekly: number }) => {
      const r = await kit.call('backup.prune', { vm, daily: o.daily, weekly: o.weekly });
      kit.print(r, ((x: BackupPruneResult) => `removed ${x.removed.length} backup(s)${x.removed.length ? `: ${x.removed.join(', ')}` : ''}; kept ${x.kept.length}`) as (r: never) => string);
    }));

  group.command('schedule <vm>')
    .description('back up a VM every N hours while the engine runs (--off to stop)')
    .option('--every <hours>', 'hours between backups', kit.numArg)
    .option('--to <dir>', 'the folder (default: the one used last)')
    .option('--full', 'a full backup each time instead of incrementals')
    .option('--keep-daily <n>', 'prune after each backup, keeping this many daily', kit.intArg)
    .option('--keep-weekly <n>', 'and this many weekly', kit.intArg)
    .option('--off', 'no scheduled backups')
    .action(kit.action(async (vm: string, o: { every?: number; to?: string; full?: boolean; keepDaily?: number; keepWeekly?: number; off?: boolean }) => {
      if (!o.off && o.every === undefined) throw new Error('give --every HOURS, or --off');
      const keep = o.keepDaily !== undefined || o.keepWeekly !== undefined ? { daily: o.keepDaily ?? 0, weekly: o.keepWeekly ?? 0 } : null;
      const r = await kit.call('backup.schedule', { vm, ...(o.to ? { to: resolve(o.to) } : {}), schedule: o.off ? null : { everyHours: o.every!, incremental: !o.full, keep } });
      kit.print(r, formatCatalog as (r: never) => string);
    }));
};
