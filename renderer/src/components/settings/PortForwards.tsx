import type { VmConfig } from '../../../../electron/api/types.ts';
import { PORT_PROTOCOLS } from '../../../../electron/shared/config-enums.ts';
import { Button, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

type Nic = VmConfig['networks'][number];

/** The port-forwards table of one NAT network card (index n in the edited config). */
export function PortForwards({ nic, n, edit, issue, lock }: { nic: Nic; n: number } & Pick<SectionProps, 'edit' | 'issue' | 'lock'>) {
  const at = `networks.${n}`;
  const nicEdit = (f: (x: Nic) => void) => edit((c) => f(c.networks[n]!));
  const fwIssue = (i: number) => issue(`${at}.portForwards.${i}.hostPort`) ?? issue(`${at}.portForwards.${i}.guestPort`);
  return (
    <>
      <p className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Port forwards</p>
      {nic.portForwards.length === 0 && <p className="text-sm text-zinc-600 dark:text-zinc-400">None. Add one to reach a guest service (e.g. SSH on 22) from this host.</p>}
      {nic.portForwards.map((pf, i) => (
        <div key={i} className="grid grid-cols-[5rem_1fr_6rem_6rem_auto] items-start gap-2">
          <select aria-label={`Protocol of forward ${i + 1}`} disabled={!!lock} className={inputClass} value={pf.protocol} onChange={(e) => nicEdit((x) => void (x.portForwards[i]!.protocol = e.target.value as typeof pf.protocol))}>
            {PORT_PROTOCOLS.map((p) => <option key={p} value={p}>{p.toUpperCase()}</option>)}
          </select>
          <input aria-label={`Host address of forward ${i + 1}`} disabled={!!lock} className={inputClass} value={pf.hostAddress} onChange={(e) => nicEdit((x) => void (x.portForwards[i]!.hostAddress = e.target.value))} />
          <input aria-label={`Host port of forward ${i + 1}`} disabled={!!lock} type="number" min={1} max={65535} aria-invalid={!!issue(`${at}.portForwards.${i}.hostPort`) || undefined} className={inputClass} value={pf.hostPort || ''} onChange={(e) => nicEdit((x) => void (x.portForwards[i]!.hostPort = Number(e.target.value)))} />
          <input aria-label={`Guest port of forward ${i + 1}`} disabled={!!lock} type="number" min={1} max={65535} aria-invalid={!!issue(`${at}.portForwards.${i}.guestPort`) || undefined} className={inputClass} value={pf.guestPort || ''} onChange={(e) => nicEdit((x) => void (x.portForwards[i]!.guestPort = Number(e.target.value)))} />
          <Button aria-label={`Remove forward ${i + 1}`} disabledReason={lock} onClick={() => nicEdit((x) => void x.portForwards.splice(i, 1))}>Remove</Button>
          {fwIssue(i) && <p role="alert" className="col-span-5 text-xs text-red-700 dark:text-red-400">{fwIssue(i)}</p>}
        </div>
      ))}
      <div className="flex gap-2">
        <Button disabledReason={lock} onClick={() => nicEdit((x) => void x.portForwards.push({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 0 }))}>
          Add port forward
        </Button>
      </div>
    </>
  );
}
