import { useEffect, useState } from 'react';
import type { VmDetails } from '../../../electron/api/types.ts';
import type { NicAddresses } from '../../../electron/api/net-types.ts';
import { useClient } from '../api/context.tsx';
import { KV, Section } from './ui.tsx';

// The overview's network cards: mode, model, MAC, the guest's addresses (net.addresses: the
// guest agent, else what the backend knows) and the forwards as host:port links to open.

const MODE: Record<string, string> = {
  user: 'NAT (user networking)',
  private: 'private network',
  hostonly: 'host-only',
  bridged: 'bridged',
  none: 'not connected',
};

type Nic = NonNullable<VmDetails['config']>['networks'][number];

function where(nic: Nic): string {
  if (nic.mode === 'private') return `${MODE.private} "${nic.network}"`;
  if (nic.mode === 'bridged') return `${MODE.bridged} to ${nic.bridge}`;
  return MODE[nic.mode] ?? nic.mode;
}

export function NetworkCard({ d }: { d: VmDetails }) {
  const c = d.config;
  const client = useClient();
  const [addrs, setAddrs] = useState<NicAddresses[] | null>(null);
  const up = d.state === 'running' || d.state === 'paused';
  const agentKey = d.runtime.agent.since ?? d.runtime.agent.state;
  useEffect(() => {
    let live = true;
    if (!up) return void setAddrs(null);
    client.call('net.addresses', { vm: d.id }).then((r) => live && setAddrs(r), () => live && setAddrs(null));
    return () => void (live = false);
  }, [client, d.id, up, agentKey]);
  return (
    <Section title="Network">
      {!c ? (
        <p className="text-sm">—</p>
      ) : c.networks.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No network card: the guest is offline.</p>
      ) : (
        <ul className="flex flex-col gap-3" aria-label="Network cards">
          {c.networks.map((nic) => {
            const a = addrs?.find((x) => x.nic === nic.id);
            const ips = a ? [...a.ipv4, ...a.ipv6] : [];
            return (
              <li key={nic.id} aria-label={`Network card ${nic.id}`}>
                <p className="text-sm font-medium">{nic.id}</p>
                <KV
                  rows={[
                    ['Mode', where(nic)],
                    ['Model', nic.model],
                    ['MAC', <span className="font-mono text-xs">{nic.mac}</span>],
                    ['Addresses', !up ? 'the VM is not running' : ips.length ? <span className="font-mono text-xs" title={a?.note ?? undefined}>{ips.join(', ')}{a?.source === 'agent' ? '' : ' (guessed)'}</span> : a?.note ?? '…'],
                    [
                      'Port forwards',
                      nic.portForwards.length ? (
                        <span>
                          {nic.portForwards.map((p, i) => (
                            <span key={i}>
                              {i > 0 && ', '}
                              {p.protocol}{' '}
                              {p.protocol === 'tcp' ? (
                                <a className="underline" href={`http://${p.hostAddress.includes(':') ? `[${p.hostAddress}]` : p.hostAddress}:${p.hostPort}/`} target="_blank" rel="noreferrer">{`${p.hostAddress}:${p.hostPort}`}</a>
                              ) : (
                                `${p.hostAddress}:${p.hostPort}`
                              )}
                              {` → ${p.guestPort}`}
                            </span>
                          ))}
                        </span>
                      ) : (
                        'none'
                      ),
                    ],
                  ]}
                />
              </li>
            );
          })}
        </ul>
      )}
    </Section>
  );
}
