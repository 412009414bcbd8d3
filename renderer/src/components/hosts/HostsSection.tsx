import { useCallback, useEffect, useState } from 'react';
import type { RemoteDomain, RemoteHostStatus } from '../../../../electron/api/host-types.ts';
import { useClient, useErrors } from '../../api/context.tsx';
import { asWireError } from '../../api/client.ts';
import { Button, Dialog, cx } from '../ui.tsx';
import { RemoteScreen } from './RemoteScreen.tsx';

// The sidebar's "Hosts" section (issue 24): the library's libvirt hosts, each with its domains
// and their state, start / shut down / power off, and the screen of a running one. Hosts are
// added with `vireo host add` on the machine (a web client may not make it connect anywhere).

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

export function HostsSection() {
  const client = useClient();
  const { report } = useErrors();
  const [views, setViews] = useState<HostView[] | null>(null);
  const [screen, setScreen] = useState<{ host: RemoteHostStatus; domain: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

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

  const act = async (h: RemoteHostStatus, d: RemoteDomain, action: 'start' | 'shutdown' | 'poweroff') => {
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
  return (
    <section aria-label="Hosts" className="border-t border-zinc-200 p-3 text-sm dark:border-zinc-800">
      <h2 className="mb-1 text-xs font-semibold tracking-wide text-zinc-600 uppercase dark:text-zinc-400">Hosts</h2>
      <ul className="flex flex-col gap-2">
        {views.map(({ host, domains, error }) => (
          <li key={host.id}>
            <div className="flex items-center gap-2" title={host.uri}>
              <span className={cx('inline-block h-2 w-2 rounded-full', host.reachable ? 'bg-green-600' : 'bg-red-600')} aria-hidden="true" />
              <span className="font-medium">{host.name}</span>
              <span className="truncate text-xs text-zinc-600 dark:text-zinc-400">{host.reachable ? host.hypervisorVersion : 'unreachable'}</span>
            </div>
            {error && <p className="text-xs text-red-700 dark:text-red-400">{error}</p>}
            {domains && (
              <ul aria-label={`VMs on ${host.name}`} className="mt-1 flex flex-col gap-1 pl-4">
                {domains.length === 0 && <li className="text-xs text-zinc-600 dark:text-zinc-400">no VMs</li>}
                {domains.map((d) => {
                  const running = d.state === 'running' || d.state === 'paused';
                  const key = `${host.id}:${d.name}`;
                  return (
                    <li key={d.uuid || d.name} aria-label={`${d.name} on ${host.name}, ${d.state}`} className="flex items-center gap-1">
                      <span className={cx('inline-block h-2 w-2 rounded-full', STATE_DOT[d.state])} aria-hidden="true" />
                      <span className="min-w-0 flex-1 truncate">{d.name}</span>
                      <span className="text-xs text-zinc-600 dark:text-zinc-400">{d.state}</span>
                      {running ? (
                        <>
                          <Button size="sm" disabled={busy === key || !host.localSockets} disabledReason={host.localSockets ? undefined : 'not yet: the screen of a domain on a remote host needs an ssh tunnel'} onClick={() => setScreen({ host, domain: d.name })}>
                            Screen
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
      {screen && (
        <Dialog title={`${screen.domain} on ${screen.host.name}`} onClose={() => setScreen(null)} wide>
          <RemoteScreen client={client} host={screen.host.id} domain={screen.domain} />
        </Dialog>
      )}
    </section>
  );
}
