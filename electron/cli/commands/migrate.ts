import { CommanderError } from 'commander';
import type { RemoteDomainDetails, VmMoveResult, VmOfflineMoveResult } from '../../api/host-types.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo migrate VM --to HOST`: a running VM of this library moves live to a paired Vireo host
// (engine/migrate/: disks mirrored over NBD and RAM migrated, both TLS-PSK); a stopped one moves
// offline (its folder with snapshots, NVRAM and TPM state) to a Vireo or a libvirt host, or
// with --copy is copied there. `vireo migrate
// DOMAIN --from HOST --to HOST`: a live move with disks between libvirt hosts
// (engine/remote/migrate.ts, libvirt's migration with storage copy).

export const registerMigrate: Registrar = (kit: CliKit) => {
  kit.program
    .command('migrate <vm>')
    .description('move a running VM with its disks to another host, live: a VM of this library to a Vireo host (--to HOST), a libvirt domain between libvirt hosts (--from HOST --to HOST)')
    .requiredOption('--to <host>', 'the host to move it to (vireo host ls)')
    .option('--from <host>', 'the libvirt host it runs on now')
    .option('--address <addr>', "the address the source reaches the target on (default: the target URI's host name)")
    .option('--bandwidth <MiB/s>', 'cap the migration streams', kit.intArg)
    .option('--copy', 'a stopped VM: copy it there (new id and MAC addresses) and keep it here')
    .option('--start', 'a stopped VM: start it there once it is in')
    .action(kit.action(async (vm: string, o: { to: string; from?: string; address?: string; bandwidth?: number; copy?: boolean; start?: boolean }) => {
      if (!o.from) {
        const state = await kit.call('vms.get', { vm }).then(
          (d) => d.state,
          (e: { code?: string }) => {
            if (e?.code !== 'NOT_FOUND') throw e;
            return null;
          },
        );
        if (state === null) {
          const msg = `"${vm}" is not a VM of this library (vireo list shows them); for a domain on a libvirt host give --from HOST`;
          process.stderr.write(`vireo: ${msg}\n`);
          throw new CommanderError(2, 'vireo.usage', msg);
        }
        if (state === 'stopped' || state === 'crashed' || o.copy) {
          const r = await kit.call('vms.move', { vm, to: o.to, ...(o.copy ? { copy: true } : {}), ...(o.start ? { start: true } : {}) });
          kit.print(r, (x: VmOfflineMoveResult) =>
            [`${x.vm} ${x.copied ? 'copied' : 'moved'} to ${x.host} (stopped${o.start ? ', now started there' : ''}) with ${x.snapshots} snapshot${x.snapshots === 1 ? '' : 's'}${x.tpm ? ' and its TPM state' : ''}${x.copied ? `; the copy's id there is ${x.id}` : '; it has left this library'}`, ...x.dropped.map((d) => `left behind: ${d}`), ...(x.notes ?? []).map((n) => `note: ${n}`)].join('\n'),
          );
          return;
        }
        const hosts = await kit.call('hosts.list', {});
        const to = hosts.find((h) => h.id === o.to) ?? hosts.find((h) => h.name === o.to);
        if (to && to.kind !== 'vireo') {
          const msg = `not yet: a running VM of this machine's library moves live only to a Vireo host (vireo host add NAME vireo://ADDR:PORT --secret S); shut "${vm}" down to move it onto ${o.to} stopped, or for a domain on a libvirt host give --from HOST`;
          process.stderr.write(`vireo: ${msg}\n`);
          throw new CommanderError(2, 'vireo.usage', msg);
        }
        const r = await kit.call('vms.migrate', { vm, to: o.to, ...(o.bandwidth ? { bandwidthMiB: o.bandwidth } : {}) });
        kit.print(r, (x: VmMoveResult) => `${x.vm} now runs on ${x.host} (downtime ${x.downtimeMs ?? '?'} ms, ${(x.totalMs / 1000).toFixed(1)} s in all); it has left this library`);
        return;
      }
      const d = await kit.call('hosts.migrate', { host: o.from, domain: vm, to: o.to, ...(o.address ? { address: o.address } : {}), ...(o.bandwidth ? { bandwidthMiB: o.bandwidth } : {}) });
      kit.print(d, (r: RemoteDomainDetails) => `${r.name} now ${r.state} on ${o.to}`);
    }));
};
