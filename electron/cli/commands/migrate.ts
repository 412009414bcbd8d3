import { CommanderError } from 'commander';
import type { RemoteDomainDetails } from '../../api/host-types.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo migrate VM --from HOST --to HOST`: a live move with disks between libvirt hosts
// (engine/remote/migrate.ts, libvirt's migration with storage copy). A VM of this machine's
// library cannot move yet: Vireo↔Vireo migration is not built, and the command says so.

export const registerMigrate: Registrar = (kit: CliKit) => {
  kit.program
    .command('migrate <vm>')
    .description('move a running VM with its disks to another host, live (libvirt hosts: --from HOST --to HOST)')
    .requiredOption('--to <host>', 'the host to move it to (vireo host ls)')
    .option('--from <host>', 'the libvirt host it runs on now')
    .option('--address <addr>', "the address the source reaches the target on (default: the target URI's host name)")
    .option('--bandwidth <MiB/s>', 'cap the migration streams', kit.intArg)
    .action(kit.action(async (vm: string, o: { to: string; from?: string; address?: string; bandwidth?: number }) => {
      if (!o.from) {
        const msg = `not yet: "${vm}" would be a VM of this machine's library, and moving those to another host (Vireo to Vireo, or onto a libvirt host) is not built yet; for a VM on a libvirt host give --from HOST`;
        process.stderr.write(`vireo: ${msg}\n`);
        throw new CommanderError(2, 'vireo.usage', msg);
      }
      const d = await kit.call('hosts.migrate', { host: o.from, domain: vm, to: o.to, ...(o.address ? { address: o.address } : {}), ...(o.bandwidth ? { bandwidthMiB: o.bandwidth } : {}) });
      kit.print(d, (r: RemoteDomainDetails) => `${r.name} now ${r.state} on ${o.to}`);
    }));
};
