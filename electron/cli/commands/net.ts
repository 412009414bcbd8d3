import type { Command } from 'commander';
import { CommanderError } from 'commander';
import type { VmDetails } from '../../api/types.ts';
import type { NicAddresses } from '../../api/net-types.ts';
import type { Nic } from '../../api/schemas/vm-config.ts';
import { MAX_NICS, NIC_MODELS, NIC_MODES } from '../../shared/config-enums.ts';
import type { CliKit, Registrar } from '../kit.ts';
import { table } from '../output.ts';

// `vireo net …`: a VM's network cards (ls, add, rm, link) and `vireo ip`. This file creates the
// `net` group; other areas attach their own subcommands to it (NAT forwards) via netGroup().

/** The `net` command group, created by registerNet (registered first in commands/index.ts). */
export function netGroup(program: Command): Command {
  const found = program.commands.find((c) => c.name() === 'net');
  if (!found) throw new Error('the net command group is registered by commands/net.ts: register it before its subcommands');
  return found;
}

/** Where a card goes, in a few words. */
export function nicWhere(n: Nic): string {
  if (n.mode === 'private') return `private "${n.network}"`;
  if (n.mode === 'bridged') return `bridged to ${n.bridge}`;
  if (n.mode === 'hostonly') return `host-only${n.hostPorts?.length ? ` (host ports ${n.hostPorts.join(', ')})` : ''}`;
  if (n.mode === 'none') return 'not connected';
  return 'NAT';
}

export function formatNics(v: VmDetails): string {
  const nics = v.config?.networks ?? [];
  if (!nics.length) return `${v.name} has no network card. Add one with: vireo net add ${v.name} --mode user`;
  return table([['NIC', 'MODE', 'MODEL', 'MAC'], ...nics.map((n) => [n.id, nicWhere(n), n.model, n.mac])]);
}

export function formatAddresses(list: NicAddresses[]): string {
  if (!list.length) return 'No network card.';
  return table([['NIC', 'MODE', 'MAC', 'ADDRESSES', 'FROM'], ...list.map((a) => [a.nic, a.mode, a.mac, [...a.ipv4, ...a.ipv6].join(' ') || '-', a.note ? `${a.source}: ${a.note}` : a.source])]);
}

/** A usage error (exit 2): main.ts exits without printing a CommanderError thrown in an action, so say it here. */
const usage = (msg: string) => {
  process.stderr.write(`vireo: ${msg}\n`);
  return new CommanderError(2, 'vireo.usage', msg);
};

function randomMac(taken: Set<string>): string {
  for (;;) {
    const b = crypto.getRandomValues(new Uint8Array(3));
    const mac = `52:54:00:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
    if (!taken.has(mac)) return mac;
  }
}

interface AddOpts {
  mode: string;
  model?: string;
  network?: string;
  bridge?: string;
  hostPort?: number[];
  mac?: string;
}

export const registerNet: Registrar = (kit: CliKit) => {
  const net = kit.program.command('net').description("a VM's network cards: modes, cable, addresses");
  net
    .command('ls <vm>')
    .description('list the network cards of a VM')
    .action(kit.action(async (vm: string) => {
      const d = await kit.call('vms.get', { vm });
      kit.print(kit.json() ? d.config?.networks ?? [] : d, formatNics as (r: never) => string);
    }));
  net
    .command('add <vm>')
    .description('add a network card (the VM must be stopped)')
    .requiredOption('--mode <mode>', `${NIC_MODES.join(', ')}`)
    .option('--model <model>', NIC_MODELS.join(', '))
    .option('--network <name>', 'private: the network name (VMs on one name reach each other)', 'intnet')
    .option('--bridge <name>', 'bridged: host bridge (Linux), interface (macOS) or TAP adapter (Windows)')
    .option('--host-port <port>', 'host-only: a host port the guest may open at 10.0.2.100 (repeatable)', (v: string, acc: number[] = []) => [...acc, kit.intArg(v)])
    .option('--mac <mac>', 'MAC address (default: a new random one)')
    .action(kit.action(async (vm: string, o: AddOpts) => {
      if (!(NIC_MODES as readonly string[]).includes(o.mode)) throw usage(`--mode must be one of ${NIC_MODES.join(', ')}`);
      const d = await kit.call('vms.get', { vm });
      const nics = d.config?.networks ?? [];
      if (nics.length >= MAX_NICS) throw usage(`"${d.name}" already has ${MAX_NICS} network cards, the most a VM may have: remove one first`);
      let n = 0;
      while (nics.some((x) => x.id === `net${n}`)) n++;
      const nic: Record<string, unknown> = { id: `net${n}`, mode: o.mode, mac: o.mac ?? randomMac(new Set(nics.map((x) => x.mac))), model: o.model ?? nics[0]?.model ?? 'virtio-net-pci' };
      if (o.mode === 'private') nic.network = o.network;
      if (o.mode === 'bridged') nic.bridge = o.bridge;
      if (o.mode === 'hostonly' && o.hostPort) nic.hostPorts = o.hostPort;
      const r = await kit.call('vms.update', { vm, patch: { networks: [...nics, nic] } });
      kit.print(kit.json() ? r.config?.networks ?? [] : r, formatNics as (r: never) => string);
    }));
  net
    .command('rm <vm> <nic>')
    .description('remove a network card (the VM must be stopped)')
    .action(kit.action(async (vm: string, id: string) => {
      const d = await kit.call('vms.get', { vm });
      const nics = d.config?.networks ?? [];
      if (!nics.some((x) => x.id === id)) throw usage(`"${d.name}" has no card ${id}; its cards: ${nics.map((x) => x.id).join(', ') || 'none'}`);
      const r = await kit.call('vms.update', { vm, patch: { networks: nics.filter((x) => x.id !== id) } });
      kit.print(kit.json() ? r.config?.networks ?? [] : r, formatNics as (r: never) => string);
    }));
  net
    .command('link <vm> <nic> <state>')
    .description('plug (up) or unplug (down) the cable of a running VM\'s card')
    .action(kit.action(async (vm: string, nic: string, state: string) => {
      if (state !== 'up' && state !== 'down') throw usage(`the cable is "up" or "down", not "${state}"`);
      const r = await kit.call('net.link', { vm, nic, up: state === 'up' });
      kit.print(r, ((x: { nic: string; up: boolean }) => `${x.nic}: cable ${x.up ? 'plugged in' : 'unplugged'}`) as (r: never) => string);
    }));
  net
    .command('modes')
    .description('which network modes this host offers, and why not')
    .option('--bridge <name>', 'check bridging to this bridge')
    .action(kit.action(async (o: { bridge?: string }) => {
      const r = await kit.call('net.modes', o.bridge ? { bridge: o.bridge } : {});
      kit.print(r, ((x: typeof r) => table([['MODE', 'AVAILABLE', 'HOW / WHY NOT'], ...x.modes.map((m) => [m.mode, m.available ? 'yes' : 'no', m.reason ?? m.how])])) as (r: never) => string);
    }));
  kit.program
    .command('ip <vm>')
    .description("the guest's addresses per network card")
    .action(kit.action(async (vm: string) => kit.print(await kit.call('net.addresses', { vm }), formatAddresses as (r: never) => string)));
};
