import { useState } from 'react';
import type { VmConfig, VmDetails } from '../../../../electron/api/types.ts';
import type { PortForward } from '../../../../electron/api/schemas/vm-config.ts';
import { NAT_BACKENDS, PORT_PROTOCOLS } from '../../../../electron/shared/config-enums.ts';
import { asWireError, type WireError } from '../../api/client.ts';
import { useClient } from '../../api/context.tsx';
import { Button, ErrorAlert, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

// The port forwards of one network card. Stopped: edited with the rest of the settings (saved
// with Save). Running, on a NAT card: each add and remove goes to the engine at once
// (forwards.add/remove), which applies it to the running VM and saves it; the table then
// shows what the engine returned. The card's NAT backend (passt or slirp) and why come from
// vms.get, with what a live change does to open connections.

type Nic = VmConfig['networks'][number];
const BACKEND_LABEL: Record<(typeof NAT_BACKENDS)[number], string> = { auto: 'Automatic (slirp for now)', passt: 'passt', slirp: 'slirp (QEMU built-in)' };

const hostPart = (f: Pick<PortForward, 'hostAddress' | 'hostPort'>) => `${f.hostAddress.includes(':') ? `[${f.hostAddress}]` : f.hostAddress}:${f.hostPort}`;

export function PortForwards({ nic, n, edit, issue, lock, vm }: { nic: Nic; n: number; vm?: VmDetails } & Pick<SectionProps, 'edit' | 'issue' | 'lock'>) {
  const at = `networks.${n}`;
  const nicEdit = (f: (x: Nic) => void) => edit((c) => f(c.networks[n]!));
  const fwIssue = (i: number) => issue(`${at}.portForwards.${i}.hostPort`) ?? issue(`${at}.portForwards.${i}.guestPort`);
  const nat = vm?.nat?.find((s) => s.nic === nic.id);
  // Live only for a NAT card the running VM was started with.
  const live = !!lock && nic.mode === 'user' && !!nat?.running && !!vm;
  return (
    <>
      <p className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Port forwards</p>
      {nic.mode === 'user' && (
        <div className="flex flex-wrap items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400" data-testid={`nat-${nic.id}`}>
          <label className="flex items-center gap-1">
            NAT backend
            <select aria-label={`NAT backend of ${nic.id}`} disabled={!!lock} className={inputClass} value={nic.natBackend ?? 'auto'} onChange={(e) => nicEdit((x) => void (x.natBackend = e.target.value as Nic['natBackend']))}>
              {NAT_BACKENDS.map((b) => <option key={b} value={b}>{BACKEND_LABEL[b]}</option>)}
            </select>
          </label>
          {nat && <span>{nat.running ? 'runs on' : 'a start uses'} <b>{nat.backend}</b>: {nat.reason}</span>}
        </div>
      )}
      {live ? <LiveForwards vm={vm!} nic={nic} liveChange={nat!.liveChange} /> : (
        <>
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
      )}
    </>
  );
}

/** The running VM's forwards on this card, each change sent at once. */
function LiveForwards({ vm, nic, liveChange }: { vm: VmDetails; nic: Nic; liveChange: string }) {
  const client = useClient();
  const [forwards, setForwards] = useState<PortForward[]>(vm.nat.find((s) => s.nic === nic.id)?.forwards ?? nic.portForwards);
  const [draft, setDraft] = useState({ protocol: 'tcp' as PortForward['protocol'], hostAddress: '127.0.0.1', hostPort: '', guestPort: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<WireError | null>(null);
  const run = async (f: () => Promise<{ nics: { nic: string; forwards: PortForward[] }[] }>) => {
    setBusy(true);
    setError(null);
    try {
      const r = await f();
      setForwards(r.nics.find((x) => x.nic === nic.id)?.forwards ?? []);
      return true;
    } catch (e) {
      setError(asWireError(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const hostPort = Number(draft.hostPort);
  const guestPort = Number(draft.guestPort);
  const valid = Number.isInteger(hostPort) && hostPort >= 1 && hostPort <= 65535 && Number.isInteger(guestPort) && guestPort >= 1 && guestPort <= 65535 && !!draft.hostAddress.trim();
  const add = async () => {
    const ok = await run(() => client.call('forwards.add', { vm: vm.id, nic: nic.id, forward: { protocol: draft.protocol, hostAddress: draft.hostAddress.trim(), hostPort, guestPort } }));
    if (ok) setDraft((d) => ({ ...d, hostPort: '', guestPort: '' }));
  };
  return (
    <div className="flex flex-col gap-2" aria-label={`Live port forwards of ${nic.id}`} role="group">
      <p className="text-xs text-zinc-600 dark:text-zinc-400">The VM runs: a change applies at once and is saved. {liveChange.charAt(0).toUpperCase() + liveChange.slice(1)}.</p>
      {forwards.length === 0 && <p className="text-sm text-zinc-600 dark:text-zinc-400">None yet.</p>}
      {forwards.length > 0 && (
        <ul className="flex flex-col gap-1">
          {forwards.map((f) => (
            <li key={`${f.protocol}-${f.hostAddress}-${f.hostPort}`} className="flex items-center gap-3 text-sm">
              <span className="font-mono" data-testid="live-forward">{hostPart(f)} → guest {f.guestPort} ({f.protocol.toUpperCase()})</span>
              <Button size="sm" aria-label={`Remove forward ${hostPart(f)}`} disabledReason={busy ? 'a change is under way' : null} onClick={() => void run(() => client.call('forwards.remove', { vm: vm.id, nic: nic.id, protocol: f.protocol, hostAddress: f.hostAddress, hostPort: f.hostPort }))}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      <div className="grid grid-cols-[5rem_1fr_6rem_6rem_auto] items-start gap-2">
        <select aria-label="Protocol of the new forward" className={inputClass} value={draft.protocol} onChange={(e) => setDraft({ ...draft, protocol: e.target.value as PortForward['protocol'] })}>
          {PORT_PROTOCOLS.map((p) => <option key={p} value={p}>{p.toUpperCase()}</option>)}
        </select>
        <input aria-label="Host address of the new forward" className={inputClass} value={draft.hostAddress} onChange={(e) => setDraft({ ...draft, hostAddress: e.target.value })} />
        <input aria-label="Host port of the new forward" type="number" min={1} max={65535} className={inputClass} value={draft.hostPort} onChange={(e) => setDraft({ ...draft, hostPort: e.target.value })} />
        <input aria-label="Guest port of the new forward" type="number" min={1} max={65535} className={inputClass} value={draft.guestPort} onChange={(e) => setDraft({ ...draft, guestPort: e.target.value })} />
        <Button disabledReason={busy ? 'a change is under way' : valid ? null : 'give a host port and a guest port (1-65535)'} onClick={() => void add()}>
          Add now
        </Button>
      </div>
      {error && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
    </div>
  );
}
