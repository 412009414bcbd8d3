import { useEffect, useState } from 'react';
import type { SnapshotNode, VmSummary } from '../../../../electron/api/types.ts';
import type { CloneInfo } from '../../../../electron/api/clone-types.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { nameProblem, suggestName } from '../../lib/names.ts';
import { isInactive } from '../../../../electron/shared/states.ts';
import { Button, Check, Dialog, ErrorAlert, Field, inputClass } from '../ui.tsx';

// Clone, and New VM from template. What the engine can do is read first (vms.get's clones):
// a kind of clone that is not possible is disabled with the engine's reason, before the click.

/** The VM's clone availability and snapshots, read when the dialog opens. */
function useCloneFacts(vmId: string) {
  const client = useClient();
  const [facts, setFacts] = useState<{ info: CloneInfo | null; snapshots: SnapshotNode[]; names: string[] } | null>(null);
  useEffect(() => {
    let live = true;
    void Promise.all([
      client.call('vms.get', { vm: vmId }).then((d) => d.clones ?? null, () => null),
      client.call('snapshots.list', { vm: vmId }).then((t) => t.nodes, () => [] as SnapshotNode[]),
      client.call('vms.list', {}).then((l) => l.map((v) => v.name), () => [] as string[]),
    ]).then(([info, snapshots, names]) => live && setFacts({ info, snapshots, names }));
    return () => {
      live = false;
    };
  }, [client, vmId]);
  return facts;
}

const NO_SNAPSHOTS: SnapshotNode[] = [];

export function CloneDialog({ vm, allNames, fromTemplate = false, onClose }: { vm: VmSummary; allNames?: string[]; fromTemplate?: boolean; onClose: () => void }) {
  const client = useClient();
  const facts = useCloneFacts(vm.id);
  const taken = allNames ?? facts?.names ?? [];
  const [name, setName] = useState<string | null>(null);
  const shownName = name ?? suggestName(fromTemplate ? `${vm.name} VM` : `${vm.name} clone`, taken);
  const [source, setSource] = useState<string>(''); // '' = current state, else a snapshot id
  const [linked, setLinked] = useState(false);
  const [withSnapshots, setWithSnapshots] = useState(false);
  const [error, setError] = useState<WireError | null>(null);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const problem = nameProblem(shownName, taken);

  // A running VM's current state is cloned once it is stopped; a snapshot of it, at once.
  const active = !isInactive(vm.state) && !fromTemplate;
  const snaps = facts?.snapshots ?? NO_SNAPSHOTS;
  useEffect(() => {
    if (active && source === '' && snaps.length > 0) setSource(snaps[snaps.length - 1]!.id);
  }, [active, source, snaps]);
  const activeWhy = active && !source
    ? facts && snaps.length === 0
      ? `Stop the VM first: a ${vm.state} VM is cloned from one of its snapshots, and it has none.`
      : 'Choose a snapshot: the current state of a running VM is cloned once it is stopped.'
    : null;
  const info = facts?.info ?? null;
  const linkedWhy = !info ? 'Reading what this VM allows…' : (source ? info.linkedFromSnapshot : info.linked).reason;
  const treeWhy = !info ? 'Reading what this VM allows…' : source ? 'Only a clone of the current state can keep the snapshot tree.' : linked ? 'A linked clone starts without snapshots of its own.' : info.withSnapshots.reason;
  const linkedOn = linked && !linkedWhy;
  const treeOn = withSnapshots && !treeWhy;

  const submit = async () => {
    setTouched(true);
    if (problem) return;
    setBusy(true);
    try {
      const args = fromTemplate
        ? { vm: vm.id, name: shownName.trim(), fromTemplate: true }
        : { vm: vm.id, name: shownName.trim(), linked: linkedOn, ...(source ? { fromSnapshot: source } : {}), ...(treeOn ? { withSnapshots: true } : {}) };
      await client.call('vms.clone', args);
      onClose();
    } catch (e) {
      setError(asWireError(e));
      setBusy(false);
    }
  };
  const templateWhy = fromTemplate && info && !info.linked.available ? info.linked.reason : null;
  return (
    <Dialog
      title={fromTemplate ? `New VM from template ${vm.name}` : `Clone ${vm.name}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" disabledReason={busy ? (fromTemplate ? 'Creating…' : 'Cloning…') : (templateWhy ?? activeWhy)} onClick={submit}>
            {fromTemplate ? 'Create VM' : 'Clone'}
          </Button>
        </>
      }
    >
      <form className="flex flex-col gap-3" onSubmit={(e) => (e.preventDefault(), void submit())}>
        <Field label={fromTemplate ? 'Name of the new VM' : 'Name of the clone'} error={touched || name ? (problem ?? undefined) : undefined}>
          {(p) => <input {...p} className={inputClass} value={shownName} onChange={(e) => setName(e.target.value)} data-autofocus />}
        </Field>
        {fromTemplate ? (
          <p className="text-sm text-zinc-700 dark:text-zinc-300">
            The new VM is a linked clone of the template as it is now: it starts small and builds on a read-only copy of the template&apos;s disks, shared by every VM made from it.
          </p>
        ) : (
          <>
            {facts && facts.snapshots.length > 0 && (
              <Field label="Clone from">
                {(p) => (
                  <select {...p} className={inputClass} value={source} onChange={(e) => setSource(e.target.value)}>
                    <option value="" disabled={active}>{active ? `Current state (stop the VM first)` : 'Current state'}</option>
                    {facts.snapshots.map((s) => (
                      <option key={s.id} value={s.id}>
                        Snapshot “{s.name}”
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            )}
            <Check
              label="Linked clone"
              checked={linkedOn}
              disabled={!!linkedWhy}
              onChange={setLinked}
              hint={
                linkedWhy
                  ? `Not available: ${linkedWhy}`
                  : source
                    ? "Builds on a read-only copy of this snapshot, shared by all linked clones of it: fast and small. The original keeps its snapshots and can be deleted."
                    : "Shares the original's disk as a read-only base: fast and small, but the original can then not be deleted while the clone exists."
              }
            />
            <Check
              label="Keep the snapshot tree"
              checked={treeOn}
              disabled={!!treeWhy}
              onChange={setWithSnapshots}
              hint={treeWhy ? `Not available: ${treeWhy}` : 'The clone gets every snapshot of the original, each one restorable.'}
            />
          </>
        )}
        {templateWhy && <p className="text-sm text-red-700 dark:text-red-400">Not available: {templateWhy}</p>}
        {active && facts && snaps.length === 0 && <p className="text-sm text-zinc-700 dark:text-zinc-300">{activeWhy}</p>}
        {error && <ErrorAlert error={error} />}
      </form>
    </Dialog>
  );
}
