import { memo, type DragEvent } from 'react';
import type { VmSummary } from '../../../../electron/api/types.ts';
import { formatMiB } from '../../../../electron/shared/size.ts';
import { plural } from '../../../../electron/shared/plural.ts';
import { useClient } from '../../api/context.tsx';
import { OsIcon, StateBadge } from '../OsIcon.tsx';
import { cx } from '../ui.tsx';
import { useFace } from './useFace.ts';

// One VM in the library: a row (list view) or a card (grid view), each with its face (the
// screen thumbnail: live while running, the last one when stopped), OS logo and state.
// Memoised on the VmSummary object, which the store replaces only for the VM that changed.

export const VM_DRAG_TYPE = 'application/x-vireo-vm';

const isTemplate = (vm: VmSummary) => !!(vm as VmSummary & { template?: boolean }).template;

function Face({ png, family, title, className }: { png: string | null; family: string; title: string; className: string }) {
  return (
    <div className={cx('relative shrink-0 overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800', className)}>
      {png ? (
        <img src={`data:image/png;base64,${png}`} alt="" data-face="" className="h-full w-full object-cover" draggable={false} />
      ) : (
        <div className="flex h-full w-full items-center justify-center">
          <OsIcon family={family} size={28} title={title} />
        </div>
      )}
      {png && (
        <span className="absolute right-0.5 bottom-0.5">
          <OsIcon family={family} size={16} title={title} />
        </span>
      )}
    </div>
  );
}

export const VmItem = memo(function VmItem({
  vm, selected, grid, onSelect, setSize, posInSet,
}: { vm: VmSummary; selected: boolean; grid: boolean; onSelect: (id: string) => void; setSize: number; posInSet: number }) {
  const client = useClient();
  const png = useFace(client, vm.id, vm.state);
  const onDragStart = (e: DragEvent) => {
    e.dataTransfer.setData(VM_DRAG_TYPE, vm.id);
    e.dataTransfer.setData('text/plain', vm.name);
    e.dataTransfer.effectAllowed = 'move';
  };
  const details = vm.broken ? 'Configuration unreadable' : `${vm.os.name} · ${plural(vm.cpus, 'CPU')} · ${formatMiB(vm.memoryMiB)}`;
  const badges = (
    <>
      <StateBadge state={vm.state} broken={!!vm.broken} />
      {isTemplate(vm) && <span className="rounded bg-zinc-200 px-1.5 text-[10px] font-medium text-zinc-800 dark:bg-zinc-700 dark:text-zinc-100">Template</span>}
    </>
  );
  return (
    <div
      id={`vm-row-${vm.id}`}
      role="option"
      aria-selected={selected}
      aria-setsize={setSize}
      aria-posinset={posInSet}
      draggable
      onDragStart={onDragStart}
      onClick={() => onSelect(vm.id)}
      className={cx(
        'cursor-default rounded-md',
        grid ? 'flex min-w-0 flex-1 flex-col gap-1 p-1.5' : 'flex items-center gap-2.5 px-2 py-1.5',
        selected ? 'bg-accent-100 dark:bg-accent-900' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800',
      )}
    >
      {grid ? (
        <>
          <Face png={png} family={vm.os.family} title={vm.os.name} className="aspect-[4/3] w-full" />
          <div className="min-w-0">
            <div className="truncate text-sm font-medium">{vm.name}</div>
            <div className="flex flex-wrap items-center gap-1">{badges}</div>
          </div>
        </>
      ) : (
        <>
          <Face png={png} family={vm.os.family} title={vm.os.name} className="h-9 w-12" />
          <div className="min-w-0 flex-1">
            <div className="truncate text-sm font-medium">{vm.name}</div>
            <div className="truncate text-xs text-zinc-600 dark:text-zinc-400">{details}</div>
          </div>
          <div className="flex flex-col items-end gap-0.5">
            {badges}
            {vm.accel && vm.state !== 'stopped' && (
              <span className="font-mono text-[10px] tracking-wide text-zinc-600 uppercase dark:text-zinc-400">{vm.accel}</span>
            )}
          </div>
        </>
      )}
    </div>
  );
});
