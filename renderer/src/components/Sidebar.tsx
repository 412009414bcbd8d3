import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { VmSummary } from '../../../electron/api/types.ts';
import type { GroupRunResult, VmGroup } from '../../../electron/api/library-types.ts';
import { GROUP_NAME_MAX } from '../../../electron/shared/library-rules.ts';
import { filterVms, type StateFilter } from '../lib/filter.ts';
import { plural } from '../../../electron/shared/plural.ts';
import { DEFAULT_PREFS, LIBRARY_SORTS, SORT_LABEL, libraryRows, readPrefs, rowOrder, sortLibrary, writePrefs, type LibraryPrefs, type LibrarySort, type LibraryRow } from '../lib/library-view.ts';
import { useClient, useErrors } from '../api/context.tsx';
import { asWireError } from '../api/client.ts';
import { useGroups, useLastUsed } from '../state/groups.ts';
import { GroupHeader } from './library/GroupHeader.tsx';
import { VmItem } from './library/VmItem.tsx';
import { HostsSection } from './hosts/HostsSection.tsx';
import { Button, cx, inputClass } from './ui.tsx';
import { focusOnMount } from '../lib/focus.ts';

// The VM library: search, state filter, list or grid, sort, groups (folders with
// drag-and-drop, collapse, start/stop). The list is virtualised: only the rows in view are
// in the DOM, so a library of 500 VMs costs about what an empty one does. Group headers sit
// beside the listbox (not inside it: a listbox holds options only), in the same scroll area.

const GRID_COLUMNS = 2;
/** Up to this many rows the list renders them all; beyond, only those near the view (issue 21's 500-VM library). */
const WHOLE_IN_DOM = 150;

function groupRunError(r: GroupRunResult): Error | null {
  const failed = r.results.filter((x) => x.outcome === 'failed');
  return failed.length ? new Error(failed.map((x) => `${x.name}: ${x.message}`).join('; ')) : null;
}

export function Sidebar({
  vms, loaded, selectedId, onSelect, onNew, home = null, epoch = 0,
}: {
  vms: VmSummary[];
  loaded: boolean;
  selectedId: string | null;
  onSelect: (id: string) => void;
  onNew: () => void;
  /** the library's folder: view settings are remembered per library */
  home?: string | null;
  /** bumped on every reconnect: groups changed meanwhile are read again */
  epoch?: number;
}) {
  const client = useClient();
  const { report } = useErrors();
  const [query, setQuery] = useState('');
  const [stateFilter, setStateFilter] = useState<StateFilter>('all');
  const [prefs, setPrefsState] = useState<LibraryPrefs>(() => (home ? readPrefs(localStorage, home) : DEFAULT_PREFS));
  // The library's folder arrives with host.info, possibly after the first render.
  useEffect(() => {
    if (home) setPrefsState(readPrefs(localStorage, home));
  }, [home]);
  const setPrefs = useCallback(
    (patch: Partial<LibraryPrefs>) =>
      setPrefsState((p) => {
        const next = { ...p, ...patch };
        if (home) writePrefs(localStorage, home, next);
        return next;
      }),
    [home],
  );
  const { groups } = useGroups(client, epoch);
  const lastUsed = useLastUsed(client, prefs.sort === 'lastUsed', vms);
  // Typing stays responsive with a large library: filtering runs at lower priority.
  const deferred = useDeferredValue(query);
  const filtering = deferred.trim() !== '' || stateFilter !== 'all';
  const shown = useMemo(() => sortLibrary(filterVms(vms, deferred, stateFilter), prefs.sort, lastUsed), [vms, deferred, stateFilter, prefs.sort, lastUsed]);
  const grid = prefs.view === 'grid';
  const rows = useMemo(() => libraryRows(shown, groups, prefs.collapsed, grid ? GRID_COLUMNS : 1, filtering), [shown, groups, prefs.collapsed, grid, filtering]);
  const order = useMemo(() => rowOrder(rows), [rows]);
  const position = useMemo(() => new Map(order.map((v, i) => [v.id, i] as const)), [order]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    // What a row measures here (a list row 50 px, a grid row ~162 at the usual sidebar width):
    // an estimate that is off moves every row once measured, a second layout and paint of the
    // list before it settles (~130 ms of a 500-VM library's first paint under load, issue 21).
    estimateSize: (i) => (rows[i]?.kind === 'group' ? 30 : grid ? 162 : 50),
    getItemKey: (i) => `${prefs.view}:${rows[i]?.key ?? i}`,
    // A library of ordinary size is whole in the DOM (find in page, screen readers and the e2e
    // tests see every VM, scrolled or not); only a big one renders just the rows near the view.
    overscan: rows.length <= WHOLE_IN_DOM ? rows.length : 6,
  });
  const items = virtualizer.getVirtualItems();
  const rowOf = useCallback((id: string) => rows.findIndex((r) => r.kind === 'vms' && r.vms.some((v) => v.id === id)), [rows]);

  // A selection made elsewhere (restored at start, a new VM, the tray) is scrolled into view.
  useEffect(() => {
    if (!selectedId) return;
    const i = rowOf(selectedId);
    if (i >= 0) virtualizer.scrollToIndex(i, { align: 'auto' });
  }, [selectedId, rowOf, virtualizer]);

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (!order.length) return;
    const i = selectedId ? (position.get(selectedId) ?? -1) : -1;
    const step = grid ? GRID_COLUMNS : 1;
    let j = -1;
    if (e.key === 'ArrowDown') j = Math.min(order.length - 1, i < 0 ? 0 : i + step);
    else if (e.key === 'ArrowUp') j = Math.max(0, i - step);
    else if (grid && e.key === 'ArrowRight') j = Math.min(order.length - 1, i + 1);
    else if (grid && e.key === 'ArrowLeft') j = Math.max(0, i - 1);
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = order.length - 1;
    if (j < 0) return;
    e.preventDefault();
    onSelect(order[j]!.id);
  };

  const toggle = (g: VmGroup) => setPrefs({ collapsed: prefs.collapsed.includes(g.id) ? prefs.collapsed.filter((x) => x !== g.id) : [...prefs.collapsed, g.id] });
  const move = useCallback(
    (vm: string, group: VmGroup | null) => void client.call('groups.move', { vm, group: group?.id ?? null }).catch((e) => report('Could not move the VM', e)),
    [client, report],
  );
  const runGroup = (g: VmGroup, what: 'start' | 'stop') =>
    void client.call(what === 'start' ? 'groups.start' : 'groups.stop', { group: g.id }).then(
      (r) => {
        const err = groupRunError(r);
        if (err) report(`Could not ${what} every VM in ${g.name}`, err);
      },
      (e) => report(`Could not ${what} the group ${g.name}`, e),
    );
  const deleteGroup = (g: VmGroup) => void client.call('groups.delete', { group: g.id }).catch((e) => report(`Could not delete the group ${g.name}`, e));

  const selected = selectedId ? vms.find((v) => v.id === selectedId) : undefined;
  const selectedGroup = selected ? groups.find((g) => g.vms.includes(selected.id)) : undefined;
  const activeInDom = !!selectedId && items.some((it) => {
    const r = rows[it.index];
    return r?.kind === 'vms' && r.vms.some((v) => v.id === selectedId);
  });

  const vmRows = items.filter((it) => rows[it.index]?.kind === 'vms');
  const headerRows = items.filter((it) => rows[it.index]?.kind === 'group');
  const place = (start: number) => ({ transform: `translateY(${start}px)` });

  return (
    <nav aria-label="Virtual machine library" className="flex h-full min-h-0 flex-col border-r border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-950">
      <div className="flex flex-col gap-2 p-3">
        <input
          type="search"
          aria-label="Search VMs by name, OS or state"
          placeholder="Search VMs"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          className={inputClass}
        />
        <div role="radiogroup" aria-label="Show" className="flex gap-1 text-xs">
          {(['all', 'running', 'stopped'] as const).map((f) => (
            <button
              key={f}
              type="button"
              role="radio"
              aria-checked={stateFilter === f}
              onClick={() => setStateFilter(f)}
              className={cx(
                'rounded px-2 py-0.5 capitalize',
                stateFilter === f ? 'bg-zinc-800 text-white dark:bg-zinc-200 dark:text-zinc-900' : 'text-zinc-700 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-800',
              )}
            >
              {f}
            </button>
          ))}
          <span className="ml-auto self-center text-zinc-600 dark:text-zinc-400" aria-live="polite">
            {shown.length === vms.length ? plural(vms.length, 'VM') : `${shown.length} of ${vms.length}`}
          </span>
        </div>
        <LibraryControls prefs={prefs} setPrefs={setPrefs} />
        <GroupControls groups={groups} selected={selected ?? null} selectedGroup={selectedGroup ?? null} onMove={move} />
      </div>
      <div ref={scrollRef} className="min-h-0 flex-1 overflow-y-auto px-2 pb-3">
        {!loaded ? (
          <p className="px-2 text-sm text-zinc-600 dark:text-zinc-400">Loading…</p>
        ) : vms.length === 0 ? (
          <div className="flex flex-col items-center gap-3 px-4 py-10 text-center">
            <p className="text-sm font-medium">No virtual machines yet</p>
            <p className="text-xs text-zinc-600 dark:text-zinc-400">Create one from an installer ISO, an empty disk, or a disk image you already have.</p>
            <Button variant="primary" onClick={onNew}>
              New VM…
            </Button>
          </div>
        ) : rows.length === 0 ? (
          <p className="px-2 text-sm text-zinc-600 dark:text-zinc-400">No VM matches “{query}”.</p>
        ) : (
          <div className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
            <div
              role="listbox"
              aria-label="Virtual machines"
              tabIndex={0}
              aria-activedescendant={activeInDom ? `vm-row-${selectedId}` : undefined}
              onKeyDown={onKey}
              className="absolute inset-0 rounded-md focus-visible:ring-2 focus-visible:ring-accent-600 focus-visible:outline-none focus-visible:ring-inset"
            >
              {vmRows.map((it) => {
                const r = rows[it.index] as Extract<LibraryRow, { kind: 'vms' }>;
                return (
                  <div key={it.key} data-index={it.index} ref={virtualizer.measureElement} className={cx('absolute top-0 left-0 w-full pb-0.5', grid && 'flex gap-1')} style={place(it.start)}>
                    {r.vms.map((vm) => (
                      <VmItem key={vm.id} vm={vm} grid={grid} selected={vm.id === selectedId} onSelect={onSelect} setSize={order.length} posInSet={(position.get(vm.id) ?? 0) + 1} />
                    ))}
                    {grid && r.vms.length < GRID_COLUMNS && <div className="flex-1" aria-hidden="true" />}
                  </div>
                );
              })}
            </div>
            {headerRows.map((it) => {
              const r = rows[it.index] as Extract<LibraryRow, { kind: 'group' }>;
              return (
                <div key={it.key} data-index={it.index} ref={virtualizer.measureElement} className="absolute top-0 left-0 z-10 w-full" style={place(it.start)}>
                  <GroupHeader
                    group={r.group}
                    name={r.name}
                    count={r.count}
                    collapsed={r.collapsed}
                    onToggle={() => r.group && toggle(r.group)}
                    onDropVm={move}
                    onStart={(g) => runGroup(g, 'start')}
                    onStop={(g) => runGroup(g, 'stop')}
                    onDelete={deleteGroup}
                  />
                </div>
              );
            })}
          </div>
        )}
      </div>
      <HostsSection />
    </nav>
  );
}

function LibraryControls({ prefs, setPrefs }: { prefs: LibraryPrefs; setPrefs: (p: Partial<LibraryPrefs>) => void }) {
  return (
    <div className="flex items-center gap-1 text-xs">
      <div role="radiogroup" aria-label="Layout" className="flex gap-0.5">
        {(['list', 'grid'] as const).map((v) => (
          <button
            key={v}
            type="button"
            role="radio"
            aria-checked={prefs.view === v}
            onClick={() => setPrefs({ view: v })}
            className={cx(
              'rounded px-2 py-0.5 capitalize',
              prefs.view === v ? 'bg-zinc-800 text-white dark:bg-zinc-200 dark:text-zinc-900' : 'text-zinc-700 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-800',
            )}
          >
            {v}
          </button>
        ))}
      </div>
      <label className="ml-auto flex items-center gap-1 text-zinc-700 dark:text-zinc-300">
        Sort
        <select
          value={prefs.sort}
          onChange={(e) => setPrefs({ sort: e.target.value as LibrarySort })}
          className="rounded border border-zinc-300 bg-white px-1 py-0.5 text-xs dark:border-zinc-600 dark:bg-zinc-800 dark:text-zinc-100"
        >
          {LIBRARY_SORTS.map((s) => (
            <option key={s} value={s}>
              {SORT_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

/** New group, and moving the selected VM by keyboard (drag-and-drop does the same by mouse). */
function GroupControls({ groups, selected, selectedGroup, onMove }: { groups: VmGroup[]; selected: VmSummary | null; selectedGroup: VmGroup | null; onMove: (vm: string, g: VmGroup | null) => void }) {
  const client = useClient();
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    client.call('groups.create', { name }).then(
      () => {
        setAdding(false);
        setName('');
        setError(null);
      },
      (err) => setError(asWireError(err).message),
    );
  };
  return (
    <div className="flex flex-col gap-1 text-xs">
      {adding ? (
        <form onSubmit={submit} className="flex items-center gap-1" onKeyDown={(e) => e.key === 'Escape' && (e.stopPropagation(), setAdding(false), setError(null))}>
          <input
            ref={focusOnMount}
            aria-label="New group name"
            placeholder="Group name"
            maxLength={GROUP_NAME_MAX}
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'new-group-error' : undefined}
            className={cx(inputClass, 'min-w-0 flex-1 py-0.5 text-xs')}
          />
          <Button size="sm" type="submit" variant="primary">
            Create
          </Button>
          <Button size="sm" variant="ghost" onClick={() => (setAdding(false), setError(null))}>
            Cancel
          </Button>
        </form>
      ) : (
        <div className="flex items-center gap-1">
          <Button size="sm" variant="ghost" onClick={() => setAdding(true)}>
            New group…
          </Button>
          {groups.length > 0 && selected && (
            <label className="ml-auto flex min-w-0 items-center gap-1 text-zinc-700 dark:text-zinc-300">
              Group
              <select
                aria-label={`Group of ${selected.name}`}
                value={selectedGroup?.id ?? ''}
                onChange={(e) => onMove(selected.id, groups.find((g) => g.id === e.target.value) ?? null)}
                className="max-w-32 rounded border border-zinc-300 bg-white px-1 py-0.5 text-xs dark:border-zinc-600 dark:bg-zinc-800 dark:text-zinc-100"
              >
                <option value="">None</option>
                {groups.map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
      )}
      {error && (
        <p id="new-group-error" role="alert" className="text-red-700 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}
