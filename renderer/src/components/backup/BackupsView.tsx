import { useEffect, useState } from 'react';
import type { BackupCatalog, BackupEntry } from '../../../../electron/api/backup-types.ts';
import type { Job, VmSummary } from '../../../../electron/api/types.ts';
import { useClient, useErrors } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { formatBytes } from '../../../../electron/shared/size.ts';
import { backupContents } from '../../../../electron/shared/backup-contents.ts';
import { isInactive } from '../../../../electron/shared/states.ts';
import { formatWhen } from '../../lib/format.ts';
import { Button, Check, ErrorAlert, Field, Progress, Section, inputClass } from '../ui.tsx';

// A VM's Backups tab: back up now (full or incremental) into a folder, the catalog with
// verify and restore per backup, retention and the schedule (engine/backup/).

function useCatalog(vmId: string) {
  const client = useClient();
  const [catalog, setCatalog] = useState<BackupCatalog | null>(null);
  const [error, setError] = useState<WireError | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(
    () =>
      client.on('job.update', (j) => {
        if (j.vmId !== vmId || j.kind !== 'backup') return;
        setJob(j.state === 'running' ? j : null);
        if (j.state !== 'running') setTick((t) => t + 1);
      }),
    [client, vmId],
  );
  useEffect(() => {
    let live = true;
    client.call('backup.list', { vm: vmId }).then(
      (c) => live && (setCatalog(c), setError(null)),
      (e) => live && setError(asWireError(e)),
    );
    return () => {
      live = false;
    };
  }, [client, vmId, tick]);
  return { catalog, error, job, reload: () => setTick((t) => t + 1) };
}

export function BackupsView({ vm }: { vm: VmSummary }) {
  const client = useClient();
  const { report } = useErrors();
  const { catalog, error, job, reload } = useCatalog(vm.id);
  const [folder, setFolder] = useState('');
  const [incremental, setIncremental] = useState(true);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    if (catalog?.target) setFolder((f) => f || catalog.target!);
  }, [catalog?.target]);

  const act = async (what: string, fn: () => Promise<string | null>) => {
    setBusy(what);
    setNotice(null);
    try {
      setNotice(await fn());
    } catch (e) {
      report(`${what} failed`, e);
    } finally {
      setBusy(null);
      reload();
    }
  };
  const hasGood = !!catalog?.backups.some((b) => b.state === 'good');
  const backUp = () =>
    act('Backup', async () => {
      const b = await client.call('backup.run', { vm: vm.id, to: folder.trim(), incremental: incremental && hasGood });
      return `${b.type === 'full' ? 'Full' : 'Incremental'} backup ${b.id}: ${formatBytes(b.bytes)}${b.note ? ` (${b.note})` : ''}`;
    });

  return (
    <div className="space-y-4 p-4">
      {error && <ErrorAlert error={error} />}
      <Section title="Back up now">
        <div className="space-y-3 p-3">
          <Field label="Backup folder" hint="Backups of this VM go to a folder named after its id inside it.">{(p) => <input {...p} className={inputClass} value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/path/to/backups" />}
          </Field>
          <Check label="Only what changed since the last backup (incremental)" checked={incremental} onChange={setIncremental} hint={hasGood ? undefined : 'The first backup is always full.'} />
          <Button variant="primary" disabledReason={busy ? `${busy} in progress…` : folder.trim() ? null : 'Choose a backup folder first.'} onClick={() => void backUp()}>
            Back up now
          </Button>
          {job && <Progress value={job.progress} label={job.title} />}
          {notice && <p role="status" className="text-sm text-zinc-700 dark:text-zinc-300">{notice}</p>}
        </div>
      </Section>
      <Section title="Backups">
        {catalog && catalog.backups.length ? (
          <BackupTable vm={vm} backups={catalog.backups} busy={busy} act={act} />
        ) : (
          <p className="p-3 text-sm text-zinc-600 dark:text-zinc-400">No backups yet.</p>
        )}
      </Section>
      {catalog && <RetentionAndSchedule vm={vm} catalog={catalog} busy={busy} act={act} />}
    </div>
  );
}

type Act = (what: string, fn: () => Promise<string | null>) => Promise<void>;

function BackupTable({ vm, backups, busy, act }: { vm: VmSummary; backups: BackupEntry[]; busy: string | null; act: Act }) {
  const client = useClient();
  const [newName, setNewName] = useState(`${vm.name}-restored`);
  const stopped = isInactive(vm.state);
  return (
    <div className="space-y-2 p-3">
      <Field label="Name for a VM restored from a backup">{(p) => <input {...p} className={inputClass} value={newName} onChange={(e) => setNewName(e.target.value)} />}
      </Field>
      <table className="w-full text-left text-sm" aria-label="Backups">
        <thead>
          <tr className="text-xs text-zinc-600 dark:text-zinc-400">
            <th className="py-1">Taken</th>
            <th>Type</th>
            <th>Holds</th>
            <th>Size</th>
            <th>State</th>
            <th>Verified</th>
            <th><span className="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {backups.map((b) => {
            const good = b.state === 'good';
            const off = busy ? `${busy} in progress…` : good ? null : `This backup is ${b.state}: it cannot be used.`;
            return (
              <tr key={b.id} aria-label={`Backup ${b.id}`} className="border-t border-zinc-200 align-top dark:border-zinc-700">
                <td className="py-1" title={b.id}>{formatWhen(b.startedAt)}</td>
                <td>{b.type}</td>
                <td>{backupContents(b)}</td>
                <td>{formatBytes(b.bytes)}</td>
                <td title={b.error ?? b.note ?? undefined}>{b.state}{b.error ? `: ${b.error}` : ''}</td>
                <td>{b.verified ? (b.verified.ok ? 'ok' : `failed: ${b.verified.message}`) : '—'}</td>
                <td className="flex flex-wrap gap-1 py-1">
                  <Button size="sm" disabledReason={off} onClick={() => void act('Verify', async () => {
                    const r = await client.call('backup.verify', { vm: vm.id, backup: b.id });
                    return `Backup ${b.id}: ${r.ok ? 'verified' : 'FAILED'}: ${r.message}`;
                  })}>Verify</Button>
                  <Button size="sm" disabledReason={off ?? (newName.trim() ? null : 'Give the new VM a name above.')} onClick={() => void act('Restore', async () => {
                    const v = await client.call('backup.restore', { vm: vm.id, backup: b.id, newName: newName.trim() });
                    return `Restored backup ${b.id} as the new VM “${v.name}”`;
                  })}>Restore as new VM</Button>
                  <Button size="sm" variant="danger" disabledReason={off ?? (stopped ? null : 'Shut the VM down first: a backup is restored in place only while the VM is stopped.')} onClick={() => void act('Restore', async () => {
                    await client.call('backup.restore', { vm: vm.id, backup: b.id });
                    return `Restored backup ${b.id} over the disks of “${vm.name}”`;
                  })}>Restore here</Button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function RetentionAndSchedule({ vm, catalog, busy, act }: { vm: VmSummary; catalog: BackupCatalog; busy: string | null; act: Act }) {
  const client = useClient();
  const [daily, setDaily] = useState(String(catalog.schedule?.keep?.daily ?? 7));
  const [weekly, setWeekly] = useState(String(catalog.schedule?.keep?.weekly ?? 4));
  const [hours, setHours] = useState(String(catalog.schedule?.everyHours ?? 24));
  const keep = { daily: Number(daily), weekly: Number(weekly) };
  const keepProblem = !Number.isInteger(keep.daily) || !Number.isInteger(keep.weekly) || keep.daily < 0 || keep.weekly < 0 ? 'Keep whole numbers of daily and weekly backups.' : keep.daily + keep.weekly === 0 ? 'Keep at least one daily or weekly backup.' : null;
  const hoursProblem = !(Number(hours) > 0) ? 'Give the hours between backups (more than 0).' : null;
  return (
    <Section title="Retention and schedule">
      <div className="space-y-3 p-3">
        <div className="flex flex-wrap items-end gap-3">
          <Field label="Daily backups to keep">{(p) => <input {...p} className={inputClass} inputMode="numeric" value={daily} onChange={(e) => setDaily(e.target.value)} />}</Field>
          <Field label="Weekly backups to keep">{(p) => <input {...p} className={inputClass} inputMode="numeric" value={weekly} onChange={(e) => setWeekly(e.target.value)} />}</Field>
          <Button disabledReason={busy ? `${busy} in progress…` : keepProblem} onClick={() => void act('Prune', async () => {
            const r = await client.call('backup.prune', { vm: vm.id, ...keep });
            return `Removed ${r.removed.length} backup(s), kept ${r.kept.length}`;
          })}>Prune now</Button>
        </div>
        <p className="text-sm text-zinc-700 dark:text-zinc-300">
          {catalog.schedule ? `Scheduled: every ${catalog.schedule.everyHours} h${catalog.schedule.incremental ? ', incremental' : ', full'}${catalog.schedule.keep ? `, keeping ${catalog.schedule.keep.daily} daily and ${catalog.schedule.keep.weekly} weekly` : ''} (while Vireo runs).` : 'No scheduled backups.'}
        </p>
        <div className="flex flex-wrap items-end gap-3">
          <Field label="Back up every (hours)">{(p) => <input {...p} className={inputClass} inputMode="decimal" value={hours} onChange={(e) => setHours(e.target.value)} />}</Field>
          <Button disabledReason={busy ? `${busy} in progress…` : (hoursProblem ?? keepProblem ?? (catalog.target ? null : 'Back up once first: the schedule uses the same folder.'))} onClick={() => void act('Schedule', async () => {
            await client.call('backup.schedule', { vm: vm.id, schedule: { everyHours: Number(hours), incremental: true, keep } });
            return `Backups of “${vm.name}” every ${hours} h`;
          })}>Save schedule</Button>
          {catalog.schedule && (
            <Button disabledReason={busy ? `${busy} in progress…` : null} onClick={() => void act('Schedule', async () => {
              await client.call('backup.schedule', { vm: vm.id, schedule: null });
              return 'Scheduled backups turned off';
            })}>Turn off schedule</Button>
          )}
        </div>
      </div>
    </Section>
  );
}
