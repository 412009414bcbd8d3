import { useEffect, useState } from 'react';
import type { VmConfig } from '../../../../electron/api/types.ts';
import type { NetModeInfo } from '../../../../electron/api/net-types.ts';
import { useClient } from '../../api/context.tsx';
import { Field, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

type Nic = VmConfig['networks'][number];

/** What this host offers per mode (net.modes), read once per settings dialog. */
export function useNetModes(): { modes: NetModeInfo[]; bridges: string[] } | null {
  const client = useClient();
  const [r, setR] = useState<{ modes: NetModeInfo[]; bridges: string[] } | null>(null);
  useEffect(() => {
    let live = true;
    client.call('net.modes', {}).then((x) => live && setR(x), () => live && setR(null));
    return () => void (live = false);
  }, [client]);
  return r;
}

/**
 * The fields a card's mode needs (network name, bridge, host ports) and how this host provides
 * the mode, or why it cannot and what to do (habit 8).
 */
export function NicModeFields({ nic, n, edit, issue, lock, modes }: { nic: Nic; n: number; modes: ReturnType<typeof useNetModes> } & Pick<SectionProps, 'edit' | 'issue' | 'lock'>) {
  const at = `networks.${n}`;
  const nicEdit = (f: (x: Nic) => void) => edit((c) => f(c.networks[n]!));
  const info = modes?.modes.find((m) => m.mode === nic.mode);
  return (
    <div className="flex flex-col gap-2">
      {info && (
        <p className={info.available ? 'text-xs text-zinc-600 dark:text-zinc-400' : 'text-xs text-amber-800 dark:text-amber-300'} data-testid={`mode-info-${nic.id}`}>
          {info.available ? info.how : `Not available here: ${info.reason}`}
        </p>
      )}
      {nic.mode === 'private' && (
        <Field label="Network name" error={issue(`${at}.network`)} hint="VMs on the same name reach each other and nothing else; give each guest a static address">
          {(p) => <input {...p} disabled={!!lock} className={inputClass} value={nic.network ?? ''} onChange={(e) => nicEdit((x) => void (x.network = e.target.value))} />}
        </Field>
      )}
      {nic.mode === 'bridged' && (
        <Field label="Bridge" error={issue(`${at}.bridge`)} hint={modes?.bridges.length ? `host bridges: ${modes.bridges.join(', ')}` : 'Linux: a host bridge (br0); macOS: an interface (en0); Windows: the TAP adapter\'s name'}>
          {(p) => (
            <>
              <input {...p} list={`bridges-${nic.id}`} disabled={!!lock} className={inputClass} value={nic.bridge ?? ''} onChange={(e) => nicEdit((x) => void (x.bridge = e.target.value))} />
              <datalist id={`bridges-${nic.id}`}>{modes?.bridges.map((b) => <option key={b} value={b} />)}</datalist>
            </>
          )}
        </Field>
      )}
      {nic.mode === 'hostonly' && (
        <Field label="Host ports the guest may open (at 10.0.2.100)" error={issue(`${at}.hostPorts`)} hint="comma-separated; the host reaches the guest through the port forwards below">
          {(p) => (
            <input
              {...p}
              disabled={!!lock}
              className={inputClass}
              defaultValue={(nic.hostPorts ?? []).join(', ')}
              onChange={(e) => nicEdit((x) => void (x.hostPorts = e.target.value.split(/[\s,]+/).filter(Boolean).map(Number)))}
            />
          )}
        </Field>
      )}
    </div>
  );
}

/** When the mode changes, the fields the new mode needs get a starting value. */
export function setNicMode(x: Nic, mode: Nic['mode'], bridges: readonly string[] = []): void {
  x.mode = mode;
  if (mode === 'private' && !x.network) x.network = 'intnet';
  if (mode === 'bridged' && !x.bridge) x.bridge = bridges[0] ?? '';
}
