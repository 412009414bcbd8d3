import type { VmConfig } from '../../../../electron/api/types.ts';
import { MAX_NICS, NIC_MODELS, NIC_MODES } from '../../../../electron/shared/config-enums.ts';
import { newNic } from '../../lib/settings.ts';
import { Button, Field, inputClass } from '../ui.tsx';
import { PortForwards } from './PortForwards.tsx';
import { NicModeFields, setNicMode, useNetModes } from './NicModeFields.tsx';
import type { SectionProps } from './types.ts';

type Nic = VmConfig['networks'][number];
const MODE_LABEL: Record<Nic['mode'], string> = {
  user: 'NAT (user networking)',
  private: 'Private network (VMs only)',
  hostonly: 'Host-only (guest and this host)',
  bridged: 'Bridged (the host\'s LAN)',
  none: 'Not connected (no cable)',
};
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** The VM's network cards: add, remove, model per card, port forwards per card. */
export function NetworkSection({ cfg: c, edit, issue, lock, vm }: SectionProps) {
  const full = c.networks.length >= MAX_NICS ? `A VM has at most ${MAX_NICS} network cards.` : null;
  return (
    <>
      {issue('networks') && <p role="alert" className="text-xs text-red-700 dark:text-red-400">{issue('networks')}</p>}
      {c.networks.length === 0 && (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No network card: the guest is offline. Add one to give it NAT networking.</p>
      )}
      {c.networks.map((nic, n) => (
        <NicCard key={nic.id} nic={nic} n={n} edit={edit} issue={issue} lock={lock} vm={vm} />
      ))}
      <div>
        <Button
          disabledReason={lock ?? full}
          onClick={() => edit((x) => void x.networks.push(newNic(x.networks, x.networks[0]?.model ?? 'virtio-net-pci', random)))}
        >
          Add network card
        </Button>
      </div>
    </>
  );
}

function NicCard({ nic, n, edit, issue, lock, vm }: { nic: Nic; n: number } & Pick<SectionProps, 'edit' | 'issue' | 'lock' | 'vm'>) {
  const at = `networks.${n}`;
  const nicEdit = (f: (x: Nic) => void) => edit((c) => f(c.networks[n]!));
  const modes = useNetModes();
  return (
    <fieldset className="flex flex-col gap-3 rounded-md border border-zinc-200 p-3 dark:border-zinc-700" aria-label={`Network card ${nic.id}`}>
      <legend className="px-1 text-sm font-medium">
        {nic.id} <span className="font-mono text-xs font-normal text-zinc-600 dark:text-zinc-400" data-testid={`mac-${nic.id}`}>MAC {nic.mac}</span>
      </legend>
      {(issue(`${at}.mac`) ?? issue(`${at}.id`)) && <p role="alert" className="text-xs text-red-700 dark:text-red-400">{issue(`${at}.mac`) ?? issue(`${at}.id`)}</p>}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Mode" error={issue(`${at}.mode`)} hint={lock ?? undefined}>
          {(p) => (
            <select {...p} disabled={!!lock} className={inputClass} value={nic.mode} onChange={(e) => nicEdit((x) => setNicMode(x, e.target.value as Nic['mode'], modes?.bridges))}>
              {NIC_MODES.map((m) => <option key={m} value={m}>{MODE_LABEL[m]}</option>)}
            </select>
          )}
        </Field>
        <Field label="Adapter model" error={issue(`${at}.model`)}>
          {(p) => (
            <select {...p} disabled={!!lock} className={inputClass} value={nic.model} onChange={(e) => nicEdit((x) => void (x.model = e.target.value as Nic['model']))}>
              {NIC_MODELS.map((m) => <option key={m} value={m}>{m}</option>)}
            </select>
          )}
        </Field>
      </div>
      <NicModeFields nic={nic} n={n} edit={edit} issue={issue} lock={lock} modes={modes} />
      <div className="flex flex-col gap-2">
        {/* Only NAT uses forwards; host-only has its own host ports (NicModeFields). */}
        {/* NAT and host-only (its host → guest forwards ride on the restricted user-mode netdev) */}
        {(nic.mode === 'user' || nic.mode === 'hostonly') && <PortForwards nic={nic} n={n} edit={edit} issue={issue} lock={lock} vm={vm} />}
        <div className="flex gap-2">
          <Button variant="ghost" disabledReason={lock} onClick={() => edit((c) => void c.networks.splice(n, 1))}>
            Remove {nic.id}
          </Button>
        </div>
      </div>
    </fieldset>
  );
}
