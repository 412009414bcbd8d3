import type { VmConfig } from '../../../../electron/api/types.ts';
import { USB_CONTROLLERS } from '../../../../electron/shared/config-enums.ts';
import { Check, Field, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

type Usb = VmConfig['devices']['usb'];
const USB_LABEL: Record<Usb, string> = { none: 'None', xhci: 'USB 3 (xHCI)', ehci: 'USB 2 (EHCI)', uhci: 'USB 1.1 (UHCI)' };

export function DevicesSection({ cfg: c, edit, issue, lock }: SectionProps) {
  return (
    <>
      <Field label="USB controller" error={issue('devices.usb')} hint={lock ?? (c.devices.usb === 'none' && c.input.tablet ? 'The USB tablet (Display) needs a USB controller.' : undefined)}>
        {(p) => (
          <select {...p} disabled={!!lock} className={inputClass} value={c.devices.usb} onChange={(e) => edit((n) => void (n.devices.usb = e.target.value as Usb))}>
            {USB_CONTROLLERS.map((u) => <option key={u} value={u}>{USB_LABEL[u]}</option>)}
          </select>
        )}
      </Field>
      <Check label="Random number generator (virtio-rng)" checked={c.devices.rng} disabled={!!lock} hint={issue('devices.rng') ?? lock ?? 'Feeds the guest entropy from the host.'} onChange={(v) => edit((n) => void (n.devices.rng = v))} />
      <Check label="Memory balloon" checked={c.devices.balloon} disabled={!!lock} hint={issue('devices.balloon') ?? lock ?? 'Lets the guest give unused memory back to the host.'} onChange={(v) => edit((n) => void (n.devices.balloon = v))} />
      <Check label="Shared clipboard" checked={c.devices.clipboard} disabled={!!lock} hint={issue('devices.clipboard') ?? lock ?? 'Copy and paste text with the guest (its spice-vdagent, through the Clipboard panel of the screen). Off: the guest cannot read what you copy.'} onChange={(v) => edit((n) => void (n.devices.clipboard = v))} />
    </>
  );
}
