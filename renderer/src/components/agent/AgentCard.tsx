import type { VmDetails } from '../../../../electron/api/types.ts';
import { formatWhen } from '../../lib/format.ts';
import { KV, Section } from '../ui.tsx';

// The guest agent as vms.get reports it: connected with what the guest says of itself
// (version, OS, hostname, addresses), or absent with the reason and what to do.

export function AgentCard({ d }: { d: VmDetails }) {
  const a = d.runtime.agent;
  return (
    <Section title="Guest agent">
      <div data-testid="agent-card" data-state={a.state}>
        {a.state !== 'connected' ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            Not connected: {a.reason ?? 'no agent answers'}.
            {d.config?.profile === 'modern' && ' Install qemu-guest-agent in the guest for addresses, clean shutdown, file copy and consistent snapshots.'}
          </p>
        ) : (
          <KV
            rows={[
              ['State', `connected${a.since ? ` since ${formatWhen(a.since)}` : ''}`],
              ['Agent version', a.version ?? 'unknown'],
              ['Guest OS', [a.os?.name, a.os?.version].filter(Boolean).join(' ') || 'not reported'],
              ['Kernel', a.os?.kernel ?? 'not reported'],
              ['Hostname', a.hostname ?? 'not reported'],
              [
                'Addresses',
                a.addresses.length === 0 ? (
                  'none reported'
                ) : (
                  <ul aria-label="Guest addresses" className="flex flex-col gap-0.5">
                    {a.addresses.map((i) => (
                      <li key={i.interface}>
                        <span className="font-medium">{i.interface}</span>{' '}
                        <span className="font-mono text-xs">{[...i.ipv4, ...i.ipv6].join(', ') || 'no address'}</span>
                        {i.mac && <span className="font-mono text-xs text-zinc-500"> ({i.mac})</span>}
                      </li>
                    ))}
                  </ul>
                ),
              ],
            ]}
          />
        )}
      </div>
    </Section>
  );
}
