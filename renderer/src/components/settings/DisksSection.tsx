import { formatBytes } from '../../../../electron/shared/size.ts';
import type { SectionProps } from './types.ts';

export function DisksSection({ vm }: SectionProps) {
  return (
    <ul className="flex flex-col gap-2 text-sm">
      {vm.disks.length === 0 && <li>No disks.</li>}
      {vm.disks.map((d) => (
        <li key={d.id} className="rounded-md border border-zinc-200 p-2 dark:border-zinc-700">
          <p className="font-medium">{d.id} <span className="font-normal text-zinc-600 dark:text-zinc-400">· {d.format} · {d.bus}</span></p>
          <p className="font-mono text-xs break-all">{d.path}</p>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">{formatBytes(d.virtualSize)} virtual, {formatBytes(d.actualSize)} on disk</p>
          {d.error && <p className="text-xs text-red-700 dark:text-red-400">{d.error}</p>}
        </li>
      ))}
      <li className="text-xs text-zinc-600 dark:text-zinc-400">Adding and resizing disks comes in a later version; use the CLI (`vireo disk`) meanwhile.</li>
    </ul>
  );
}
