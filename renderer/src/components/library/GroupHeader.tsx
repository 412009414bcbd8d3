import { useState, type DragEvent } from 'react';
import type { VmGroup } from '../../../../electron/api/library-types.ts';
import { plural } from '../../../../electron/shared/plural.ts';
import { PlayIcon, StopIcon } from '../icons.tsx';
import { cx } from '../ui.tsx';
import { VM_DRAG_TYPE } from './VmItem.tsx';

// A folder in the library: collapse, start or stop all its VMs, delete it; VMs dragged onto
// it move into it (the "Not in a group" header takes them out of their group).

const iconBtn = 'rounded p-1 text-zinc-700 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-700';

export function GroupHeader({
  group, name, count, collapsed, onToggle, onDropVm, onStart, onStop, onDelete,
}: {
  group: VmGroup | null;
  name: string;
  count: number;
  collapsed: boolean;
  onToggle: () => void;
  onDropVm: (vmId: string, group: VmGroup | null) => void;
  onStart: (g: VmGroup) => void;
  onStop: (g: VmGroup) => void;
  onDelete: (g: VmGroup) => void;
}) {
  const [over, setOver] = useState(false);
  const accepts = (e: DragEvent) => e.dataTransfer.types.includes(VM_DRAG_TYPE);
  return (
    <div
      data-group={group?.id ?? 'none'}
      onDragOver={(e) => {
        if (!accepts(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'move';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        setOver(false);
        const id = e.dataTransfer.getData(VM_DRAG_TYPE);
        if (!id) return;
        e.preventDefault();
        onDropVm(id, group);
      }}
      className={cx(
        'mt-1 flex items-center gap-1 rounded-md border border-dashed px-1 py-0.5 text-xs font-semibold tracking-wide text-zinc-700 uppercase dark:text-zinc-300',
        over ? 'border-accent-600 bg-accent-100 dark:bg-accent-900' : 'border-transparent',
      )}
    >
      {group ? (
        <button type="button" aria-expanded={!collapsed} onClick={onToggle} className="flex min-w-0 flex-1 items-center gap-1 rounded px-1 py-0.5 text-left uppercase hover:bg-zinc-200 dark:hover:bg-zinc-800">
          <span aria-hidden="true" className={cx('inline-block transition-transform', collapsed ? '-rotate-90' : '')}>▾</span>
          <span className="truncate">{name}</span>
          <span className="font-normal text-zinc-600 normal-case dark:text-zinc-400">{plural(count, 'VM')}</span>
        </button>
      ) : (
        <span className="flex min-w-0 flex-1 items-center gap-1 px-1 py-0.5">
          <span className="truncate">{name}</span>
          <span className="font-normal text-zinc-600 normal-case dark:text-zinc-400">{plural(count, 'VM')}</span>
        </span>
      )}
      {group && (
        <>
          <button type="button" className={iconBtn} aria-label={`Start group ${name}`} title={`Start every VM in ${name}`} onClick={() => onStart(group)}>
            <PlayIcon size={14} />
          </button>
          <button type="button" className={iconBtn} aria-label={`Stop group ${name}`} title={`Shut down every VM in ${name}`} onClick={() => onStop(group)}>
            <StopIcon size={14} />
          </button>
          <button type="button" className={iconBtn} aria-label={`Delete group ${name}`} title={`Delete the group ${name} (its VMs stay)`} onClick={() => onDelete(group)}>
            <span aria-hidden="true" className="px-0.5 leading-none">×</span>
          </button>
        </>
      )}
    </div>
  );
}
