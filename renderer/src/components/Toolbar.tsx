import { useEffect, useState } from 'react';
import type { VmSummary } from '../../../electron/api/types.ts';
import { useClient, useErrors } from '../api/context.tsx';
import { asWireError, type WireError } from '../api/client.ts';
import { actionAvailability, type Action } from '../lib/vm-actions.ts';
import { CloneDialog } from './clones/CloneDialog.tsx';
import { SHUTDOWN_TIMEOUT_SEC } from '../../../electron/shared/states.ts';
import { StartOnceMenu } from './StartOnceMenu.tsx';
import { ExportDialog } from './appliance/ExportDialog.tsx';
import { useOvercommitStart } from './OvercommitDialog.tsx';
import { PauseIcon, PlayIcon, StopIcon } from './icons.tsx';
import { useVmShortcuts } from './useShortcuts.ts';
import { snapshotNameProblem } from '../lib/snapshot-names.ts';
import { useSnapshotNames } from './useSnapshotNames.ts';
import { KeptDisksNotice, ShutdownNotice, type PendingShutdown } from './StopNotices.tsx';
import { Button, Check, Confirm, Dialog, ErrorAlert, Field, MenuButton, inputClass } from './ui.tsx';
import { isGuestUp } from '../../../electron/shared/states.ts';

type Open = null | 'clone' | 'delete' | 'snapshot' | 'poweroff' | 'reset' | 'discardstate' | 'export';

export function Toolbar({
  vm, allNames, onNew, onSettings,
}: { vm: VmSummary | null; allNames: string[]; onNew: () => void; onSettings: () => void }) {
  const client = useClient();
  const { report } = useErrors();
  const [open, setOpen] = useState<Open>(null);
  const [busy, setBusy] = useState<Action | null>(null);
  // A shutdown waits on the guest for SHUTDOWN_TIMEOUT_SEC; it is not `busy`, so Power off
  // stays available meanwhile (a guest that ignores ACPI would otherwise hold the UI).
  const [shutdown, setShutdown] = useState<PendingShutdown | null>(null);
  const [forcing, setForcing] = useState(false);
  const [kept, setKept] = useState<{ name: string; folder: string } | null>(null);
  const overcommit = useOvercommitStart();

  const why = (a: Action) => {
    if (busy) return 'Waiting for the previous action to finish.';
    // A template is not started: VMs are made from it (Details → Clones and template).
    if (a === 'start' && vm?.template) return 'This VM is a template, and templates are not started: make a new VM from it (New VM from template in its details), or turn off Template.';
    const av = actionAvailability(vm, a);
    return av.ok ? null : av.reason;
  };

  const run = async (a: Action, title: string, f: () => Promise<unknown>) => {
    setBusy(a);
    try {
      await f();
    } catch (e) {
      report(title, e);
    } finally {
      setBusy(null);
    }
  };

  const id = vm?.id ?? '';
  useVmShortcuts({ onDelete: () => why('delete') === null && setOpen('delete') });
  const paused = vm?.state === 'paused';

  const shutDown = async () => {
    if (!vm) return;
    const target = { vmId: vm.id, name: vm.name, deadline: Date.now() + SHUTDOWN_TIMEOUT_SEC * 1000 };
    setShutdown(target);
    try {
      await client.call('vms.stop', { vm: target.vmId, timeoutSec: SHUTDOWN_TIMEOUT_SEC });
    } catch (e) {
      report(`Could not shut down ${target.name}`, e);
    } finally {
      setShutdown((cur) => (cur === target ? null : cur));
      setForcing(false);
    }
  };

  const powerOffNow = async (p: PendingShutdown) => {
    setForcing(true);
    try {
      await client.call('vms.stop', { vm: p.vmId, force: true });
    } catch (e) {
      report(`Could not power off ${p.name}`, e);
      setForcing(false);
    }
  };

  return (
    <>
      {/* Buttons a little narrower than elsewhere, so the row still fits at 1024 px (review-small.spec). */}
      <div role="toolbar" aria-label="VM actions" className="flex flex-wrap items-center gap-1 border-b border-zinc-200 px-3 py-2 dark:border-zinc-800 [&>button]:px-2 [&>div>button]:px-2">
        <Button variant="primary" onClick={onNew}>
          <span aria-hidden="true">+</span> New
        </Button>
        <Button disabledReason={why('settings')} onClick={onSettings}>
          Settings
        </Button>
        <span className="mx-1 h-6 w-px bg-zinc-200 dark:bg-zinc-700" aria-hidden="true" />
        <Button disabledReason={why('start')} onClick={() => run('start', `Could not start ${vm?.name}`, () => overcommit.start({ vm: id }))}>
          <PlayIcon size={14} /> Start
        </Button>
        <StartOnceMenu vm={vm} startWhy={why('start')} onStart={(bootOnce) => void run('start', `Could not start ${vm?.name} from the CD`, () => overcommit.start({ vm: id, bootOnce }))} />
        {overcommit.dialog}
        {paused ? (
          <Button disabledReason={why('resume')} onClick={() => run('resume', `Could not resume ${vm?.name}`, () => client.call('vms.resume', { vm: id }))}>
            <PlayIcon size={14} /> Resume
          </Button>
        ) : (
          <Button disabledReason={why('pause')} onClick={() => run('pause', `Could not pause ${vm?.name}`, () => client.call('vms.pause', { vm: id }))}>
            <PauseIcon size={14} /> Pause
          </Button>
        )}
        <MenuButton
          label={<><StopIcon size={14} /> Stop</>}
          disabledReason={why('shutdown') && why('poweroff') && why('discardstate')}
          items={[
            { label: 'Shut down', disabledReason: why('shutdown'), onSelect: () => void shutDown() },
            // Suspend to disk: Start resumes it exactly (engine/vm/save-state.ts).
            { label: 'Save state', disabledReason: why('savestate'), onSelect: () => void run('savestate', `Could not save the state of ${vm?.name}`, () => client.call('vms.saveState', { vm: id })) },
            { label: 'Discard saved state…', disabledReason: why('discardstate'), onSelect: () => setOpen('discardstate') },
            { label: 'Power off…', disabledReason: why('poweroff'), onSelect: () => setOpen('poweroff') },
            { label: 'Reset…', disabledReason: why('reset'), onSelect: () => setOpen('reset') },
            // Ctrl+Alt+Del pressed on the host's keyboard never reaches the guest (the host takes it).
            { label: 'Send Ctrl+Alt+Del', disabledReason: why('reset'), onSelect: () => void run('reset', `Could not send Ctrl+Alt+Del to ${vm?.name}`, () => client.call('vms.sendKeys', { vm: id, keys: ['ctrl', 'alt', 'delete'] })) },
          ]}
        />
        <span className="mx-1 h-6 w-px bg-zinc-200 dark:bg-zinc-700" aria-hidden="true" />
        <Button disabledReason={why('snapshot')} onClick={() => setOpen('snapshot')}>
          Snapshot
        </Button>
        <Button disabledReason={why('clone')} onClick={() => setOpen('clone')}>
          Clone
        </Button>
        <Button disabledReason={why('delete')} onClick={() => setOpen('delete')}>
          Delete
        </Button>
        {/* Less frequent actions on the selected VM; Import… (a library action) is in the header. */}
        <MenuButton
          label={<><span aria-hidden="true">⋯</span><span className="sr-only">More actions</span></>}
          disabledReason={vm ? null : 'Select a VM first.'}
          items={[
            { label: 'Export…', disabledReason: !vm ? 'Select a VM first.' : busy ? 'Waiting for the previous action to finish.' : ['stopped', 'crashed'].includes(vm.state) ? null : `Shut ${vm.name} down first: an export copies its disks as they are at rest.`, onSelect: () => setOpen('export') },
          ]}
        />

        {open === 'poweroff' && vm && (
          <Confirm
            title={`Power off ${vm.name}?`}
            body="Like pulling the plug: unsaved work in the guest is lost, and its file systems may need a check on the next boot."
            confirmLabel="Power off"
            danger
            onCancel={() => setOpen(null)}
            onConfirm={() => {
              setOpen(null);
              void run('poweroff', `Could not power off ${vm.name}`, () => client.call('vms.stop', { vm: id, force: true }));
            }}
          />
        )}
        {open === 'discardstate' && vm && (
          <Confirm
            title={`Discard the saved state of ${vm.name}?`}
            body="Like pulling the plug at the moment the state was saved: the next start boots afresh, and unsaved work in the guest is lost."
            confirmLabel="Discard saved state"
            danger
            onCancel={() => setOpen(null)}
            onConfirm={() => {
              setOpen(null);
              void run('discardstate', `Could not discard the saved state of ${vm.name}`, () => client.call('vms.discardState', { vm: id }));
            }}
          />
        )}
        {open === 'reset' && vm && (
          <Confirm
            title={`Reset ${vm.name}?`}
            body="Like pressing the reset button: the guest restarts at once and unsaved work is lost."
            confirmLabel="Reset"
            danger
            onCancel={() => setOpen(null)}
            onConfirm={() => {
              setOpen(null);
              void run('reset', `Could not reset ${vm.name}`, () => client.call('vms.reset', { vm: id }));
            }}
          />
        )}
        {open === 'delete' && vm && <DeleteDialog vm={vm} onClose={() => setOpen(null)} onKept={(folder) => setKept({ name: vm.name, folder })} />}
        {open === 'clone' && vm && <CloneDialog vm={vm} allNames={allNames} onClose={() => setOpen(null)} />}
        {open === 'snapshot' && vm && <TakeSnapshotDialog vm={vm} onClose={() => setOpen(null)} />}
        {open === 'export' && vm && <ExportDialog vm={vm} onClose={() => setOpen(null)} />}
      </div>
      {shutdown && <ShutdownNotice pending={shutdown} forcing={forcing} onPowerOff={() => void powerOffNow(shutdown)} />}
      {kept && <KeptDisksNotice name={kept.name} folder={kept.folder} onDismiss={() => setKept(null)} />}
    </>
  );
}

function DeleteDialog({ vm, onClose, onKept }: { vm: VmSummary; onClose: () => void; onKept: (folder: string) => void }) {
  const client = useClient();
  const [keepDisks, setKeepDisks] = useState(false);
  const [error, setError] = useState<WireError | null>(null);
  const [busy, setBusy] = useState(false);
  // Linked clones that need its disks keep it: said before the click, in the engine's words.
  const [blocked, setBlocked] = useState<string | null>(null);
  const [linked, setLinked] = useState(false);
  useEffect(() => {
    let live = true;
    client.call('vms.get', { vm: vm.id }).then((d) => {
      if (!live) return;
      setBlocked(d.clones?.deleteBlocked ?? null);
      setLinked(!!d.clones?.linkedTo);
    }, () => undefined);
    return () => {
      live = false;
    };
  }, [client, vm.id]);
  const submit = async () => {
    setBusy(true);
    try {
      // With keepDisks the engine moves disks, NVRAM and TPM state to a folder it names in
      // `keptIn`, from which they can be imported again; the user is shown where.
      const r = await client.call('vms.delete', { vm: vm.id, keepDisks });
      if (r.keptIn) onKept(r.keptIn);
      onClose();
    } catch (e) {
      setError(asWireError(e));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Delete ${vm.name}?`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" disabledReason={busy ? 'Deleting…' : blocked ? 'Linked clones need this VM: see above.' : null} onClick={submit}>
            Delete VM
          </Button>
        </>
      }
    >
      <div className="flex flex-col gap-3">
        <p className="text-sm">
          {keepDisks
            ? 'The VM, its settings and snapshots are removed. This cannot be undone.'
            : "The VM's folder, its settings, snapshots, disks and NVRAM are removed. This cannot be undone."}
        </p>
        {blocked && (
          <p role="alert" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
            This VM cannot be deleted now: {blocked}.
          </p>
        )}
        <Check
          label="Keep the disk images"
          checked={keepDisks}
          onChange={setKeepDisks}
          hint={
            linked
              ? 'The disks (with NVRAM and TPM state) are kept in a folder in the library, shown after deleting, so you can import them later. This is a linked clone: its disks are written out whole, with what they build on, so they work on their own (this takes longer and the full disk size).'
              : 'The disks (with NVRAM and TPM state) move to a folder in the library, shown after deleting, so you can import them later.'
          }
        />
        {error && <ErrorAlert error={error} />}
      </div>
    </Dialog>
  );
}

export function TakeSnapshotDialog({ vm, onClose }: { vm: VmSummary; onClose: () => void }) {
  const client = useClient();
  const [name, setName] = useState(() => `Snapshot ${new Date().toLocaleString()}`);
  const [description, setDescription] = useState('');
  const [error, setError] = useState<WireError | null>(null);
  const [busy, setBusy] = useState(false);
  // 'saving' is this very snapshot being taken: the guest runs, held only while its RAM is saved.
  const taking = vm.state === 'saving';
  const live = isGuestUp(vm.state) || taking;
  const taken = useSnapshotNames(vm.id);
  const problem = snapshotNameProblem(name, taken);
  const submit = async () => {
    if (problem) return;
    setBusy(true);
    try {
      await client.call('snapshots.save', { vm: vm.id, name: name.trim(), ...(description ? { description } : {}) });
      onClose();
    } catch (e) {
      setError(asWireError(e));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Take a snapshot of ${vm.name}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" disabledReason={busy ? 'Saving…' : problem} onClick={submit}>
            Take snapshot
          </Button>
        </>
      }
    >
      <form className="flex flex-col gap-3" onSubmit={(e) => (e.preventDefault(), void submit())}>
        <p className="text-sm text-zinc-700 dark:text-zinc-300">
          {taking
            ? 'The VM is running, paused while the snapshot is taken: memory and device state are saved too, and it continues when the snapshot is done.'
            : live
              ? 'The VM is running: memory and device state are saved too, so restoring resumes exactly here.'
              : 'The VM is stopped: the disks are saved.'}
        </p>
        <Field label="Name" error={problem ?? undefined}>
          {(p) => <input {...p} className={inputClass} value={name} maxLength={64} onChange={(e) => setName(e.target.value)} data-autofocus />}
        </Field>
        <Field label="Description (optional)">
          {(p) => <textarea {...p} className={inputClass} rows={3} value={description} maxLength={2000} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        {error && <ErrorAlert error={error} />}
      </form>
    </Dialog>
  );
}
