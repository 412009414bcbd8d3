import { useCallback, useEffect, useState } from 'react';
import type { RemoteDomain, RemoteHostStatus } from '../../../../electron/api/host-types.ts';
import { useClient, useErrors } from '../../api/context.tsx';
import { asWireError } from '../../api/client.ts';
import { Button, Dialog, cx, inputClass } from '../ui.tsx';
import { Deferred, RemoteConsole, RemoteScreen } from '../lazy.tsx';
import { MoveHereDialog } from './MoveHereDialog.tsx';

// The sidebar's "Hosts" section (issue 24): the library's libvirt hosts, each with its domains
// and their state, start / pause / resume / power off, and the screen of a running one; Vireo
// hosts (another machine's `vireo serve`) the same way, their VMs asked and driven over the
// paired channel. Each host takes a VM of this library with "Move a VM here…"
// (MoveHereDialog.tsx); after a live move the VM's screen opens again from that host, so the
// display follows the VM. Hosts are added with `vireo host add` on the machine (a web client
// may not make it connect anywhere).

interface HostView {
  host: RemoteHostStatus;
  domains: RemoteDomain[] | null;
  error: string | null;
}

const STATE_DOT: Record<RemoteDomain['state'], string> = {
  running: 'bg-green-600',
  paused: 'bg-amber-500',
  stopped: 'bg-zinc-400',
  crashed: 'bg-red-600',
  suspended: 'bg-amber-500',
  other: 'bg-zinc-400',
};

/** Whether this engine can show a running VM's screen and console from that host (a Vireo host's come over the paired channel). */
const screenable = (h: RemoteHostStatus) => h.kind === 'vireo' || h.localSockets || h.uri.startsWith('qemu+ssh://');

export function HostsSection() {
  const client = useClient();
  const { report } = useErrors();
  const [views, setViews] = useState<HostView[] | null>(null);
  const [screen, setScreen] = useState<{ host: RemoteHostStatus; domain: string } | null>(null);
  const [serial, setSerial] = useState<{ host: RemoteHostStatus; domain: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [moving, setMoving] = useState<{ host: RemoteHostStatus; domain: string } | null>(null);
  const [movingHere, setMovingHere] = useState<RemoteHostStatus | null>(null);

  const refresh = useCallback(async () => {
    try {
      const hosts = await client.call('hosts.list', {});
      const next = await Promise.all(
        hosts.map(async (host): Promise<HostView> => {
          if (!host.reachable) return { host, domains: null, error: host.reason };
          try {
            return { host, domains: await client.call('hosts.domains', { host: host.id }), error: null };
          } catch (e) {
            return { host, domains: null, error: asWireError(e).message };
          }
        }),
      );
      setViews(next);
    } catch {
      setViews([]);
    }
  }, [client]);

  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), 5000);
    return () => clearInterval(t);
  }, [refresh]);

  const act = async (h: RemoteHostStatus, d: RemoteDomain, action: 'start' | 'shutdown' | 'poweroff' | 'pause' | 'resume') => {
    setBusy(`${h.id}:${d.name}`);
    try {
      await client.call('hosts.control', { host: h.id, domain: d.name, action });
    } catch (e) {
      report(`${action} ${d.name} on ${h.name}`, e);
    } finally {
      setBusy(null);
      void refresh();
    }
  };

  if (!views || views.length === 0) return null;
  const libvirtHosts = views.filter((v) => v.host.kind === 'libvirt').length;
  return (
    // At most a third of the sidebar, scrolled beyond: the library above stays usable with many hosts or long errors.
    <section aria-label="Hosts" tabIndex={0} className="max-h-[33%] shrink-0 overflow-y-auto border-t border-zinc-200 p-3 text-sm dark:border-zinc-800">
      <h2 className="mb-1 text-xs font-semibold tracking-wide text-zinc-600 uppercase dark:text-zinc-400">Hosts</h2>
      <ul className="flex flex-col gap-2">
        {views.map(({ host, domains, error }) => (
          <li key={host.id}>
            <div className="flex items-center gap-2" title={host.uri}>
              <span className={cx('inline-block h-2 w-2 rounded-full', host.reachable ? 'bg-green-600' : 'bg-red-600')} aria-hidden="true" />
              <span className="font-medium">{host.name}</span>
              <span className="min-w-0 flex-1 truncate text-xs text-zinc-600 dark:text-zinc-400">{host.reachable ? host.hypervisorVersion : 'unreachable'}</span>
              <Button size="sm" disabled={!host.reachable} disabledReason={host.reachable ? undefined : `${host.name} does not answer`} onClick={() => setMovingHere(host)}>
                Move a VM here…
              </Button>
            </div>
            {error && <p className="line-clamp-2 text-xs text-red-700 dark:text-red-400" title={error}>{error}</p>}
            {domains && (
              <ul aria-label={`VMs on ${host.name}`} className="mt-1 flex flex-col gap-1 pl-4">
                {domains.length === 0 && <li className="text-xs text-zinc-600 dark:text-zinc-400">no VMs</li>}
                {domains.map((d) => {
                  const running = d.state === 'running' || d.state === 'paused';
                  const key = `${host.id}:${d.name}`;
                  return (
                    <li key={d.uuid || d.name} aria-label={`${d.name} on ${host.name}, ${d.state}`} className="flex flex-wrap items-center gap-1">
                      <span className={cx('inline-block h-2 w-2 rounded-full', STATE_DOT[d.state])} aria-hidden="true" />
                      {/* the name keeps room to be read; the buttons wrap below it in a narrow sidebar */}
                      <span className="min-w-[6rem] flex-1 truncate" title={d.name}>{d.name}</span>
                      <span className="text-xs text-zinc-600 dark:text-zinc-400">{d.state}</span>
                      {running ? (
                        <>
                          <Button size="sm" disabled={busy === key || !screenable(host)} disabledReason={screenable(host) ? undefined : 'not yet: the screen of a domain on a remote host is carried over ssh, so only for qemu+ssh:// URIs'} onClick={() => setScreen({ host, domain: d.name })}>
                            Screen
                          </Button>
                          <Button size="sm" disabled={busy === key || !screenable(host)} disabledReason={screenable(host) ? undefined : 'not yet: the serial console of a domain on a remote host is carried over ssh, so only for qemu+ssh:// URIs'} onClick={() => setSerial({ host, domain: d.name })}>
                            Console
                          </Button>
                          {host.kind === 'libvirt' && (
                            <Button size="sm" disabled={busy === key || libvirtHosts < 2} disabledReason={libvirtHosts < 2 ? 'add another libvirt host to move it to' : undefined} onClick={() => setMoving({ host, domain: d.name })}>
                              Move to host…
                            </Button>
                          )}
                          <Button size="sm" disabled={busy === key} onClick={() => void act(host, d, d.state === 'paused' ? 'resume' : 'pause')}>
                            {d.state === 'paused' ? 'Resume' : 'Pause'}
                          </Button>
                          <Button size="sm" disabled={busy === key} onClick={() => void act(host, d, 'poweroff')}>
                            Power off
                          </Button>
                        </>
                      ) : (
                        <Button size="sm" disabled={busy === key} onClick={() => void act(host, d, 'start')}>
                          Start
                        </Button>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
          </li>
        ))}
      </ul>
      {moving && (
        <MoveDialog
          from={moving.host}
          domain={moving.domain}
          targets={views.map((v) => v.host).filter((h) => h.id !== moving.host.id && h.kind === 'libvirt')}
          onClose={() => setMoving(null)}
          onMoved={() => {
            setMoving(null);
            void refresh();
          }}
        />
      )}
      {movingHere && (
        <MoveHereDialog
          host={movingHere}
          onClose={() => setMovingHere(null)}
          onMoved={() => {
            setMovingHere(null);
            void refresh();
          }}
          // The VM runs there now: its screen follows it (the one here closed with its QEMU).
          onMovedLive={(vm) => setScreen({ host: movingHere, domain: vm })}
        />
      )}
      {screen && (
        <Dialog title={`${screen.domain} on ${screen.host.name}`} onClose={() => setScreen(null)} wide>
          <Deferred>
            <RemoteScreen client={client} host={screen.host.id} domain={screen.domain} />
          </Deferred>
        </Dialog>
      )}
      {serial && (
        <Dialog title={`Console of ${serial.domain} on ${serial.host.name}`} onClose={() => setSerial(null)} wide>
          <Deferred>
            <RemoteConsole client={client} host={serial.host.id} domain={serial.domain} />
          </Deferred>
        </Dialog>
      )}
    </section>
  );
}

/** "Move to host…": a live move with disks (hosts.migrate, libvirt's migration with storage copy). */
function MoveDialog({ from, domain, targets, onClose, onMoved }: { from: RemoteHostStatus; domain: string; targets: RemoteHostStatus[]; onClose: () => void; onMoved: () => void }) {
  const client = useClient();
  const [to, setTo] = useState(targets[0]?.id ?? '');
  const [address, setAddress] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const move = async () => {
    setRunning(true);
    setError(null);
    try {
      await client.call('hosts.migrate', { host: from.id, domain, to, ...(address.trim() ? { address: address.trim() } : {}) });
      onMoved();
    } catch (e) {
      setError(asWireError(e).message);
    } finally {
      setRunning(false);
    }
  };
  return (
    <Dialog
      title={`Move ${domain} to another host`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" disabled={!to || running} onClick={() => void move()}>
            {running ? 'Moving…' : 'Move'}
          </Button>
        </>
      }
    >
      <p className="mb-2 text-sm">It keeps running: its memory and disks are copied to the other host while it runs (libvirt's live migration), then it continues there and is gone from {from.name}. A VM with snapshots is refused (libvirt does not move snapshots): delete them first.</p>
      <label className="mb-2 flex flex-col gap-1 text-sm">
        Host
        <select className={inputClass} value={to} onChange={(e) => setTo(e.target.value)}>
          {targets.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-sm">
        Address the VM's data goes to (optional: the host's name in its URI)
        <input className={inputClass} value={address} onChange={(e) => setAddress(e.target.value)} placeholder="e.g. 10.0.0.2" />
      </label>
      {error && <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-400">{error}</p>}
    </Dialog>
  );
}
