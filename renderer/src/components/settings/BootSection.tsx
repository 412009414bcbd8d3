import type { VmConfig } from '../../../../electron/api/types.ts';
import { BOOT_DEVICES } from '../../../../electron/shared/config-enums.ts';
import { Button, Check } from '../ui.tsx';
import type { SectionProps } from './types.ts';

type BootDevice = VmConfig['boot']['order'][number];
const LABEL: Record<BootDevice, string> = { disk: 'Hard disk', cdrom: 'CD-ROM', network: 'Network (PXE)' };

/** Boot order: the ticked devices in the order tried; unticked ones are never booted from. */
export function BootSection({ cfg: c, edit, issue, lock }: SectionProps) {
  const order = c.boot.order;
  const rest = BOOT_DEVICES.filter((d) => !order.includes(d));
  const move = (i: number, by: -1 | 1) =>
    edit((n) => {
      const o = n.boot.order;
      const j = i + by;
      if (j < 0 || j >= o.length) return;
      [o[i], o[j]] = [o[j]!, o[i]!];
    });
  return (
    <>
      <fieldset className="flex flex-col gap-2" disabled={!!lock}>
        <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">Boot order {lock ? `(${lock})` : ''}</legend>
        <ol className="flex flex-col gap-1.5" aria-label="Boot order">
          {[...order, ...rest].map((d, i) => {
            const on = i < order.length;
            return (
              <li key={d} className="flex items-center gap-2">
                <span className="w-5 text-right text-xs text-zinc-600 dark:text-zinc-400">{on ? `${i + 1}.` : ''}</span>
                <div className="flex-1">
                  <Check
                    label={LABEL[d]}
                    checked={on}
                    disabled={!!lock}
                    onChange={(v) => edit((n) => void (n.boot.order = v ? [...n.boot.order, d] : n.boot.order.filter((x) => x !== d)))}
                  />
                </div>
                <Button size="sm" aria-label={`Move ${LABEL[d]} up`} disabledReason={lock ?? (!on || i === 0 ? 'Already first, or not booted from.' : null)} onClick={() => move(i, -1)}>↑</Button>
                <Button size="sm" aria-label={`Move ${LABEL[d]} down`} disabledReason={lock ?? (!on || i === order.length - 1 ? 'Already last, or not booted from.' : null)} onClick={() => move(i, 1)}>↓</Button>
              </li>
            );
          })}
        </ol>
        {issue('boot.order') && <p role="alert" className="text-xs text-red-700 dark:text-red-400">{issue('boot.order')}</p>}
      </fieldset>
      <Check label="Show the firmware's boot menu" checked={c.boot.menu} disabled={!!lock} hint={lock ?? 'Press Esc (BIOS) or F2 (UEFI) at start to pick a device once.'} onChange={(v) => edit((n) => void (n.boot.menu = v))} />
    </>
  );
}
