import { isIP } from 'node:net';
import { CommanderError, type Command } from 'commander';
import type { ForwardsResult } from '../../api/types.ts';
import type { PortForward } from '../../api/schemas/vm-config.ts';
import type { CliKit, Registrar } from '../kit.ts';
import { table } from '../output.ts';

// `vireo net forward add|rm|ls VM`: port forwards of a VM's NAT cards, live while it runs.
// The `net` group is H4's (commands/net.ts); this finds it (or creates it when absent), so the
// two files never edit each other.

/** "tcp:127.0.0.1:8080:80", "udp:5353:53", "8080:80" (tcp on 127.0.0.1), "[::1]:8080:80". */
export function parseForwardSpec(spec: string, withGuest = true, printUsage = false): PortForward {
  const usage = withGuest ? '[tcp|udp:][host-address:]host-port:guest-port, e.g. tcp:127.0.0.1:8080:80' : '[tcp|udp:][host-address:]host-port, e.g. tcp:127.0.0.1:8080';
  let rest = spec.trim();
  let protocol: 'tcp' | 'udp' = 'tcp';
  const p = /^(tcp|udp):/i.exec(rest);
  if (p) {
    protocol = p[1]!.toLowerCase() as 'tcp' | 'udp';
    rest = rest.slice(p[0].length);
  }
  let hostAddress = '127.0.0.1';
  const v6 = /^\[([0-9a-f:.]+)\]:/i.exec(rest);
  if (v6) {
    hostAddress = v6[1]!;
    rest = rest.slice(v6[0].length);
  }
  const parts = rest.split(':');
  const ports = withGuest ? 2 : 1;
  if (!v6 && parts.length === ports + 1) hostAddress = parts.shift()!;
  const nums = parts.map((x) => (/^\d{1,5}$/.test(x) ? Number(x) : NaN));
  if (parts.length !== ports || nums.some((n) => !(n >= 1 && n <= 65535)) || !isIP(hostAddress)) {
    const msg = `"${spec}" is not a forward: give ${usage} (the host address as an IP address)`;
    // main.ts turns a CommanderError into exit 2 without printing it; say why here.
    if (printUsage) process.stderr.write(`vireo: ${msg}\n`);
    throw new CommanderError(2, 'vireo.usage', msg);
  }
  return { protocol, hostAddress, hostPort: nums[0]!, guestPort: withGuest ? nums[1]! : 0 };
}

const hostPart = (f: Pick<PortForward, 'hostAddress' | 'hostPort'>) => `${f.hostAddress.includes(':') ? `[${f.hostAddress}]` : f.hostAddress}:${f.hostPort}`;

export function formatForwards(r: ForwardsResult): string {
  if (!r.nics.length) return 'This VM has no NAT network card.';
  const lines: string[] = [];
  for (const n of r.nics) {
    lines.push(`${n.nic}: ${n.backend} (${n.reason})${r.running ? `; live changes: ${n.liveChange}` : ''}`);
    if (n.forwards.length) lines.push(table([['PROTO', 'HOST', 'GUEST PORT'], ...n.forwards.map((f) => [f.protocol, hostPart(f), String(f.guestPort)])]));
    else lines.push('  no port forwards');
  }
  return lines.join('\n');
}

function netGroupOf(program: Command): Command {
  return program.commands.find((c) => c.name() === 'net') ?? program.command('net').description("a VM's network cards");
}

export const registerForwards: Registrar = (kit: CliKit) => {
  const fwd = netGroupOf(kit.program).command('forward').description("port forwards of a VM's NAT cards (live while it runs, saved in vm.json)");
  fwd
    .command('ls <vm>')
    .description('list the NAT cards, their backend (passt or slirp) and why, and their forwards')
    .action(kit.action(async (vm: string) => kit.print(await kit.call('forwards.list', { vm }), formatForwards as (r: never) => string)));
  fwd
    .command('add <vm> <spec>')
    .description('add a forward: [tcp|udp:][host-address:]host-port:guest-port (host address 127.0.0.1 unless given)')
    .option('--nic <id>', 'the NAT card (default: the first one)')
    .action(kit.action(async (vm: string, spec: string, o: { nic?: string }) => {
      const forward = parseForwardSpec(spec, true, true);
      kit.print(await kit.call('forwards.add', { vm, forward, ...(o.nic ? { nic: o.nic } : {}) }), formatForwards as (r: never) => string);
    }));
  fwd
    .command('rm <vm> <spec>')
    .description('remove a forward by [tcp|udp:][host-address:]host-port')
    .option('--nic <id>', 'the NAT card (default: the one with that forward)')
    .action(kit.action(async (vm: string, spec: string, o: { nic?: string }) => {
      const f = parseForwardSpec(spec, false, true);
      kit.print(await kit.call('forwards.remove', { vm, protocol: f.protocol, hostAddress: f.hostAddress, hostPort: f.hostPort, ...(o.nic ? { nic: o.nic } : {}) }), formatForwards as (r: never) => string);
    }));
};
