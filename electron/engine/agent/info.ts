import type { AgentAddress, AgentInfo } from '../../api/types.ts';

// What the agent reports, narrowed to what Vireo shows. The agent's JSON is the guest's word:
// every field is checked for its type, and anything else is dropped rather than trusted.

export const absentAgent = (reason: string): AgentInfo => ({ state: 'absent', reason, version: null, os: null, hostname: null, addresses: [], since: null });

const str = (x: unknown): string | null => (typeof x === 'string' && x.length > 0 ? x.slice(0, 256) : null);

export function parseOsInfo(x: unknown): AgentInfo['os'] {
  if (!x || typeof x !== 'object') return null;
  const o = x as Record<string, unknown>;
  return {
    id: str(o.id),
    name: str(o['pretty-name']) ?? str(o.name),
    version: str(o.version) ?? str(o['version-id']),
    kernel: str(o['kernel-release']),
  };
}

export function parseInterfaces(x: unknown): AgentAddress[] {
  if (!Array.isArray(x)) return [];
  return x.slice(0, 64).flatMap((i): AgentAddress[] => {
    if (!i || typeof i !== 'object') return [];
    const name = str((i as Record<string, unknown>).name);
    if (!name) return [];
    const ips = (i as Record<string, unknown>)['ip-addresses'];
    const list = Array.isArray(ips) ? ips : [];
    const of = (type: string) =>
      list.flatMap((a) => {
        const r = a as Record<string, unknown> | null;
        const ip = r && r['ip-address-type'] === type ? str(r['ip-address']) : null;
        return ip ? [ip] : [];
      });
    return [{ interface: name, mac: str((i as Record<string, unknown>)['hardware-address']), ipv4: of('ipv4'), ipv6: of('ipv6') }];
  });
}
