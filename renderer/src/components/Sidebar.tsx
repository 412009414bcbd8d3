import { memo, useDeferredValue, useMemo, useState, type KeyboardEvent } from 'react';
import type { VmSummary } from '../../../electron/api/types.ts';
import { filterVms, type StateFilter } from '../lib/filter.ts';
import { formatMiB } from '../../../electron/shared/size.ts';
import { plural } from '../../../electron/shared/plural.ts';
import { OsIcon, StateBadge } from './OsIcon.tsx';
import { Button, cx, inputClass } from './ui.tsx';

// The VM library. Rows are memoised on the VmSummary object, which the store replaces only
// for the VM that changed, so a state event re-renders one row, not five hundred.

const Row = memo(function Row({ vm, selected, onSelect }: { vm: VmSummary; selected: boolean; onSelect: (id: string) => void }) {
  return (
    <li
      id={`vm-row-${vm.id}`}
      role="option"
      aria-selected={selected}
      onClick={() => onSelect(vm.id)}
      className={cx(
        'flex cursor-default items-center gap-2.5 rounded-md px-2 py-1.5',
        selected ? 'bg-accent-100 dark:bg-accent-900' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800',
      )}
    >
      <OsIcon family={vm.os.family} size={28} title={vm.os.name} />
      <div className="min-w-0 flex-1">
        <div className="truncate text-sm font-medium">{vm.name}</div>
        <div className="truncate text-xs text-zinc-600 dark:text-zinc-400">
          {vm.broken ? 'Configuration unreadable' : `${vm.os.name} · ${plural(vm.cpus, 'CPU')} · ${formatMiB(vm.memoryMiB)}`}
        </div>
      </div>
      <div className="flex flex-col items-end gap-0.5">
        <StateBadge state={vm.state} broken={!!vm.broken} />
        {vm.accel && vm.state !== 'stopped' && (
          <span className="font-mono text-[10px] tracking-wide text-zinc-600 uppercase dark:text-zinc-400">{vm.accel}</span>
        )}
      </div>
    </li>
  );
});

export function Sidebar({
  vms, loaded, selectedId, onSelect, onNew,
}: { vms: VmSummary[]; loaded: boolean; selectedId: string | null; onSelect: (id: string) => void; onNew: () => void }) {
  const [query, setQuery] = useState('');
  const [stateFilter, setStateFilter] = useState<StateFilter>('all');
  // Typing stays responsive with a large library: filtering runs at lower priority.
  const deferred = useDeferredValue(query);
  const shown = useMemo(() => filterVms(vms, deferred, stateFilter), [vms, deferred, stateFilter]);

  const onKey = (e: KeyboardEvent<HTMLUListElement>) => {
    if (!shown.length) return;
    const i = shown.findIndex((v) => v.id === selectedId);
    let j = -1;
    if (e.key === 'ArrowDown') j = Math.min(shown.length - 1, i + 1);
    else if (e.key === 'ArrowUp') j = Math.max(0, i - 1);
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = shown.length - 1;
    if (j < 0) return;
    e.preventDefault();
    const id = shown[j]!.id;
    onSelect(id);
    document.getElementById(`vm-row-${id}`)?.scrollIntoView({ block: 'nearest' });
  };

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
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-3">
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
        ) : shown.length === 0 ? (
          <p className="px-2 text-sm text-zinc-600 dark:text-zinc-400">No VM matches “{query}”.</p>
        ) : (
          <ul
            role="listbox"
            aria-label="Virtual machines"
            tabIndex={0}
            aria-activedescendant={selectedId && shown.some((v) => v.id === selectedId) ? `vm-row-${selectedId}` : undefined}
            onKeyDown={onKey}
            className="flex flex-col gap-0.5 rounded-md"
          >
            {shown.map((vm) => (
              <Row key={vm.id} vm={vm} selected={vm.id === selectedId} onSelect={onSelect} />
            ))}
          </ul>
        )}
      </div>
    </nav>
  );
}
