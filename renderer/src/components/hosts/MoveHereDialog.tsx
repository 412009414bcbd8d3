import { useEffect, useState } from 'react';
import type { RemoteHostStatus } from '../../../../electron/api/host-types.ts';
import type { VmSummary } from '../../../../electron/api/types.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError } from '../../api/client.ts';
import { Button, Check, Dialog, inputClass } from '../ui.tsx';

// "Move to host…" for a VM of this library (issue 24), opened from a host in the Hosts
// section: a running VM moves live to a Vireo host (vms.migrate: disks mirrored, RAM migrated,
// over TLS-PSK); a stopped one moves, or is copied, offline to either kind (vms.move: its disks,
// snapshots, NVRAM and TPM state; a libvirt host takes the snapshots as disk states, not yet TPM state).
// What cannot move says why before the click; what was left behind is shown after.

const live = (v: VmSummary) => v.state === 'running' || v.state === 'paused';

/** Why this VM cannot go to this host as it is, or null. */
export function moveProblem(v: VmSummary | undefined, host: RemoteHostStatus): string | null {
  if (!v) return 'Choose a VM.';
  if (!host.reachable) return `${host.name} does not answer: ${host.reason ?? 'unreachable'}`;
  if (live(v)) return host.kind === 'vireo' ? null : `${v.name} is running: a running VM moves live only to a Vireo host. Shut it down to move it to ${host.name} stopped.`;
  if (v.state === 'stopped' || v.state === 'crashed') return null;
  return v.state === 'saved' ? `${v.name} has a saved state, which belongs to this machine: start it and shut it down, or discard the state.` : `${v.name} is ${v.state}: wait for it to settle.`;
}

/** onMovedLive: a running VM now runs on the host (its screen can follow it there). */
export function MoveHereDialog({ host, onClose, onMoved, onMovedLive }: { host: RemoteHostStatus; onClose: () => void; onMoved: () => void; onMovedLive?: (vm: string) => void }) {
  const client = useClient();
  const [vms, setVms] = useState<VmSummary[] | null>(null);
  const [vmId, setVmId] = useState('');
  const [copy, setCopy] = useState(false);
  const [start, setStart] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [left, setLeft] = useState<{ dropped: string[]; notes: string[] } | null>(null);

  useEffect(() => {
    void client.call('vms.list', {}).then((list) => {
      const mine = list.filter((v) => !v.broken);
      setVms(mine);
      setVmId((cur) => cur || (mine[0]?.id ?? ''));
    }, (e: unknown) => setError(asWireError(e).message));
  }, [client]);

  const vm = vms?.find((v) => v.id === vmId);
  const problem = moveProblem(vm, host);
  const isLive = !!vm && live(vm);
  const move = async () => {
    if (!vm) return;
    setRunning(true);
    setError(null);
    try {
      if (isLive) {
        await client.call('vms.migrate', { vm: vm.id, to: host.id });
        onMoved();
        onMovedLive?.(vm.name);
      } else {
        const r = await client.call('vms.move', { vm: vm.id, to: host.id, ...(copy ? { copy: true } : {}), ...(start ? { start: true } : {}) });
        if (r.dropped.length || r.notes?.length) setLeft({ dropped: r.dropped, notes: r.notes ?? [] });
        else onMoved();
      }
    } catch (e) {
      setError(asWireError(e).message);
    } finally {
      setRunning(false);
    }
  };

  if (left) {
    return (
      <Dialog title={`Moved to ${host.name}`} onClose={onMoved} footer={<Button variant="primary" onClick={onMoved}>Close</Button>}>
        <p className="mb-2 text-sm">It is on {host.name} now.{left.dropped.length ? ' Left behind:' : ''}</p>
        {left.dropped.length > 0 && <ul className="list-disc pl-5 text-sm">{left.dropped.map((d) => <li key={d}>{d}</li>)}</ul>}
        {left.notes.length > 0 && <ul className="mt-2 list-disc pl-5 text-sm">{left.notes.map((d) => <li key={d}>{d[0]!.toUpperCase() + d.slice(1)}</li>)}</ul>}
      </Dialog>
    );
  }
  return (
    <Dialog
      title={`Move to host ${host.name}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" disabled={running || !!problem} disabledReason={problem ?? undefined} onClick={() => void move()}>
            {running ? (copy ? 'Copying…' : 'Moving…') : copy && !isLive ? 'Copy' : 'Move'}
          </Button>
        </>
      }
    >
      <label className="mb-2 flex flex-col gap-1 text-sm">
        VM of this library
        <select className={inputClass} value={vmId} onChange={(e) => setVmId(e.target.value)} disabled={!vms}>
          {(vms ?? []).map((v) => (
            <option key={v.id} value={v.id}>
              {v.name} ({v.state})
            </option>
          ))}
        </select>
      </label>
      {vm && isLive && host.kind === 'vireo' && (
        <p className="mb-2 text-sm">
          It keeps running: its disks, memory, UEFI variables and TPM state are copied to {host.name} while it runs, then it continues there and leaves this library. Refused, with the reason, when it has snapshots, shared folders or devices of this machine, or when the two hosts' QEMU, swtpm or UEFI firmware differ.
        </p>
      )}
      {vm && !isLive && (
        <>
          <p className="mb-2 text-sm">
            {host.kind === 'vireo'
              ? `Its disks, snapshots, UEFI variables and TPM state go to ${host.name}.`
              : `Its disks and UEFI variables go to ${host.name}'s storage pool and it is defined there; its snapshots arrive as disk states (their saved RAM stays behind). Not yet its TPM state (a VM with one is refused).`}{' '}
            The CD's ISO stays here.
          </p>
          <div className="mb-2 flex flex-col gap-2">
            <Check label="Copy: keep it here too" checked={copy} onChange={setCopy} hint="The copy there gets a new id and new MAC addresses." />
            <Check label={`Start it on ${host.name}`} checked={start} onChange={setStart} />
          </div>
        </>
      )}
      {problem && vm && <p className="text-sm text-zinc-700 dark:text-zinc-300">{problem}</p>}
      {error && <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-400">{error}</p>}
    </Dialog>
  );
}
