import type { Command } from 'commander';
import type { VmDetails } from '../../api/types.ts';
import type { Nic } from '../../api/schemas/vm-config.ts';
import type { CliKit, Registrar } from '../kit.ts';
import { table } from '../output.ts';

// `vireo net …`: a VM's network cards. This file creates the `net` group; other areas attach
// their own subcommands to it (NAT forwards) by finding it with netGroup().

/** The `net` command group, created by registerNet (registered first in commands/index.ts). */
export function netGroup(program: Command): Command {
  const found = program.commands.find((c) => c.name() === 'net');
  if (!found) throw new Error('the net command group is registered by commands/net.ts: register it before its subcommands');
  return found;
}

export function nicWhere(n: Nic): string {
  return n.mode;
}

export function formatNics(v: VmDetails): string {
  const nics = v.config?.networks ?? [];
  if (!nics.length) return `${v.name} has no network card. Add one with: vireo net add ${v.name} --mode user`;
  return table([['NIC', 'MODE', 'MODEL', 'MAC'], ...nics.map((n) => [n.id, nicWhere(n), n.model, n.mac])]);
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
};
