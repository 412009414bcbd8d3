import { useEffect, useMemo, useState, type KeyboardEvent } from 'react';
import type { SnapshotTree, VmSummary } from '../../../electron/api/types.ts';
import { useClient, useErrors } from '../api/context.tsx';
import { asWireError, type WireError } from '../api/client.ts';
import { formatWhen } from '../lib/format.ts';
import { CURRENT_ID, layoutSnapshotTree, type TreeRow } from '../lib/snapshot-tree.ts';
import { snapshotNameProblem } from '../lib/snapshot-names.ts';
import { TakeSnapshotDialog } from './Toolbar.tsx';
import { Button, Confirm, Dialog, ErrorAlert, Field, cx, inputClass } from './ui.tsx';
import { isGuestUp } from '../../../electron/shared/states.ts';
import type { VmConfig } from '../../../electron/api/types.ts';
import { useV86SnapshotActions } from '../v86/snapshot-actions.ts';

function Guides({ row }: { row: TreeRow }) {
  // Connector lines: a vertical guide for every open ancestor, then an elbow into this node.
  return (
    <span aria-hidden="true" className="flex self-stretch">
      {row.guides.slice(1).map((g, i) => (
        <span key={i} className={cx('w-5 shrink-0', g && 'border-l border-zinc-300 dark:border-zinc-600')} style={{ marginLeft: 9 }} />
      ))}
      {row.depth > 0 && (
        <span className="relative w-5 shrink-0" style={{ marginLeft: 9 }}>
          <span className={cx('absolute top-0 left-0 border-l border-zinc-300 dark:border-zinc-600', row.isLast ? 'h-1/2' : 'h-full')} />
          <span className="absolute top-1/2 left-0 w-3 border-t border-zinc-300 dark:border-zinc-600" />
        </span>
      )}
    </span>
  );
}

function SnapshotThumb({ vmId, snapshot }: { vmId: string; snapshot: string }) {
  const client = useClient();
  const [png, setPng] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client.call('snapshots.thumbnail', { vm: vmId, snapshot }).then((r) => live && setPng(r.png), () => undefined);
    return () => {
      live = false;
    };
  }, [client, vmId, snapshot]);
  return png ? <img src={`data:image/png;base64,${png}`} alt="Screen when the snapshot was taken" className="max-h-40 rounded border border-zinc-200 dark:border-zinc-700" /> : null;
}

export function SnapshotsView({ vm, config }: { vm: VmSummary; config?: VmConfig | null }) {
  const client = useClient();
  // a wasm/v86 VM: Take and Restore run in this page (v86/snapshot-actions.ts)
  const v86 = useV86SnapshotActions(vm.id, config);
  const { report } = useErrors();
  const [tree, setTree] = useState<SnapshotTree | null>(null);
  const [error, setError] = useState<WireError | null>(null);
  const [selected, setSelected] = useState<string>(CURRENT_ID);
  const [tick, setTick] = useState(0);
  const [dialog, setDialog] = useState<null | 'take' | 'restore' | 'delete' | 'edit'>(null);

  useEffect(() => client.on('snapshots.changed', (p) => p.vmId === vm.id && setTick((t) => t + 1)), [client, vm.id]);
  useEffect(() => {
    let live = true;
    client.call('snapshots.list', { vm: vm.id }).then(
      (t) => live && (setTree(t), setError(null)),
      (e) => live && setError(asWireError(e)),
    );
    return () => {
      live = false;
    };
  }, [client, vm.id, tick]);

  const rows = useMemo(() => (tree ? layoutSnapshotTree(tree.nodes, tree.current) : []), [tree]);
  const sel = rows.find((r) => r.id === selected)?.node ?? null;
  const running = isGuestUp(vm.state);

  const act = async (title: string, f: () => Promise<SnapshotTree>) => {
    try {
      setTree(await f());
    } catch (e) {
      report(title, e);
    }
  };

  const onKey = (e: KeyboardEvent) => {
    const i = rows.findIndex((r) => r.id === selected);
    let j = -1;
    if (e.key === 'ArrowDown') j = Math.min(rows.length - 1, i + 1);
    if (e.key === 'ArrowUp') j = Math.max(0, i - 1);
    if (j < 0) return;
    e.preventDefault();
    setSelected(rows[j]!.id);
  };

  if (error) return <div className="p-4"><ErrorAlert error={error} /></div>;
  if (!tree) return <p className="p-4 text-sm text-zinc-600 dark:text-zinc-400">Loading snapshots…</p>;

  const unavailable = tree.available ? null : (tree.reason ?? 'Snapshots are not available for this VM.');
  const busy = ['starting', 'stopping', 'saving', 'restoring'].includes(vm.state) ? `The VM is ${vm.state}; wait until it finishes.` : null;

  return (
    <div className="flex flex-col gap-3 p-4">
      {unavailable && <p className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">{unavailable}</p>}
      <div className="flex flex-wrap gap-1.5">
        <Button variant="primary" disabledReason={unavailable ?? busy ?? v86?.takeReason ?? null} onClick={() => (v86 ? void act('Could not take the snapshot', async () => (await v86.take(), client.call('snapshots.list', { vm: vm.id }))) : setDialog('take'))}>
          Take snapshot…
        </Button>
        <Button disabledReason={!sel ? 'Select a snapshot to restore.' : unavailable ?? busy} onClick={() => setDialog('restore')}>
          Restore
        </Button>
        <Button disabledReason={!sel ? 'Select a snapshot to edit.' : null} onClick={() => setDialog('edit')}>
          Rename…
        </Button>
        <Button disabledReason={!sel ? 'Select a snapshot to delete.' : busy} onClick={() => setDialog('delete')}>
          Delete
        </Button>
      </div>
      <div className="grid gap-4 lg:grid-cols-[1fr_minmax(14rem,20rem)]">
        <ul
          role="tree"
          aria-label={`Snapshots of ${vm.name}`}
          tabIndex={0}
          aria-activedescendant={`snap-${selected}`}
          onKeyDown={onKey}
          className="rounded-md border border-zinc-200 p-1 dark:border-zinc-700"
        >
          {rows.map((r) => (
            <li
              key={r.id}
              id={`snap-${r.id}`}
              role="treeitem"
              aria-level={r.depth + 1}
              aria-selected={r.id === selected}
              onClick={() => setSelected(r.id)}
              className={cx('flex min-h-8 items-stretch rounded px-1', r.id === selected ? 'bg-accent-100 dark:bg-accent-900' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800')}
            >
              <Guides row={r} />
              <span className="flex items-center gap-2 py-1 text-sm">
                {r.node ? (
                  <>
                    <span aria-hidden="true" className={cx('inline-block h-2.5 w-2.5 rounded-full', r.node.live ? 'bg-emerald-600' : 'bg-zinc-500')} />
                    <span className={cx(r.isCurrentParent && 'font-semibold')}>{r.node.name}</span>
                    <span className="text-xs text-zinc-600 dark:text-zinc-400">{formatWhen(r.node.createdAt)}{r.node.live ? ' · with RAM' : ''}</span>
                  </>
                ) : (
                  <>
                    <span aria-hidden="true" className="inline-block h-2.5 w-2.5 rounded-full border-2 border-accent-600" />
                    <span className="italic">Current state</span>
                  </>
                )}
              </span>
            </li>
          ))}
        </ul>
        <aside aria-label="Selected snapshot" className="flex flex-col gap-2 text-sm">
          {sel ? (
            <>
              <h2 className="font-semibold">{sel.name}</h2>
              <p className="text-zinc-600 dark:text-zinc-400">{new Date(sel.createdAt).toLocaleString()} · {sel.live ? `live (${sel.vmState})` : 'disk only'}</p>
              {sel.description && <p className="whitespace-pre-wrap">{sel.description}</p>}
              {sel.hasThumbnail && <SnapshotThumb vmId={vm.id} snapshot={sel.id} />}
            </>
          ) : (
            <p className="text-zinc-600 dark:text-zinc-400">
              {tree.nodes.length ? 'The VM as it is now. Select a snapshot to see it.' : 'No snapshots yet. Take one before a risky change, and go back to it at any time.'}
            </p>
          )}
        </aside>
      </div>

      {dialog === 'take' && <TakeSnapshotDialog vm={vm} onClose={() => setDialog(null)} />}
      {dialog === 'restore' && sel && (
        <Confirm
          title={`Restore “${sel.name}”?`}
          body={v86 ? 'It runs in this window from the snapshot (its Screen tab); its current state is lost unless you take a snapshot first.' : running ? 'The VM is running: its current state is lost unless you take a snapshot first.' : 'The disks go back to this snapshot; changes since the last snapshot are lost.'}
          confirmLabel="Restore"
          danger={running}
          onCancel={() => setDialog(null)}
          onConfirm={() => {
            setDialog(null);
            void act(`Could not restore ${sel.name}`, async () => (v86 ? (await v86.restore(sel.id), client.call('snapshots.list', { vm: vm.id })) : client.call('snapshots.restore', { vm: vm.id, snapshot: sel.id })));
          }}
        />
      )}
      {dialog === 'delete' && sel && (
        <Confirm
          title={`Delete “${sel.name}”?`}
          body="The snapshot is removed; snapshots taken after it stay restorable."
          confirmLabel="Delete snapshot"
          danger
          onCancel={() => setDialog(null)}
          onConfirm={() => {
            setDialog(null);
            setSelected(CURRENT_ID);
            void act(`Could not delete ${sel.name}`, () => client.call('snapshots.delete', { vm: vm.id, snapshot: sel.id }));
          }}
        />
      )}
      {dialog === 'edit' && sel && (
        <EditSnapshot
          initialName={sel.name}
          taken={tree?.nodes.filter((n) => n.id !== sel.id).map((n) => n.name) ?? []}
          initialDescription={sel.description}
          onClose={() => setDialog(null)}
          onSave={(name, description) => client.call('snapshots.rename', { vm: vm.id, snapshot: sel.id, name, description }).then(setTree)}
        />
      )}
    </div>
  );
}

function EditSnapshot({
  initialName, taken, initialDescription, onClose, onSave,
}: { initialName: string; taken: string[]; initialDescription: string; onClose: () => void; onSave: (name: string, description: string) => Promise<void> }) {
  const [name, setName] = useState(initialName);
  const [description, setDescription] = useState(initialDescription);
  const [error, setError] = useState<WireError | null>(null);
  const problem = snapshotNameProblem(name, taken);
  const submit = async () => {
    if (problem) return;
    try {
      await onSave(name.trim(), description);
      onClose();
    } catch (e) {
      setError(asWireError(e));
    }
  };
  return (
    <Dialog
      title="Rename snapshot"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" disabledReason={problem} onClick={submit}>Save</Button>
        </>
      }
    >
      <form className="flex flex-col gap-3" onSubmit={(e) => (e.preventDefault(), void submit())}>
        <Field label="Name" error={problem ?? undefined}>
          {(p) => <input {...p} className={inputClass} value={name} maxLength={64} onChange={(e) => setName(e.target.value)} data-autofocus />}
        </Field>
        <Field label="Description">
          {(p) => <textarea {...p} className={inputClass} rows={3} value={description} maxLength={2000} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        {error && <ErrorAlert error={error} />}
      </form>
    </Dialog>
  );
}
