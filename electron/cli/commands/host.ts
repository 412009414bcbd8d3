import type { RemoteDomain, RemoteHostStatus } from '../../api/host-types.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo host add NAME URI | ls | rm NAME` and `vireo host vms|start|stop|… HOST DOMAIN`:
// libvirt hosts (engine/remote/) and Vireo hosts (vireo://addr:port --secret S, paired with
// another machine's `vireo serve`, engine/migrate/). Adding checks the connection (and the
// pairing) first and stores nothing when it fails.

export const formatHosts = (hs: RemoteHostStatus[]) =>
  hs.length === 0
    ? 'no hosts: vireo host add NAME URI (for example qemu+ssh://user@server/system)'
    : hs.map((h) => `${h.name.padEnd(16)} ${h.uri}  ${h.reachable ? (h.kind === 'vireo' ? `${h.hypervisorVersion ?? '?'}` : `libvirt ${h.libvirtVersion ?? '?'}, ${h.hypervisorVersion ?? '?'}`) : `unreachable: ${h.reason}`}`).join('\n');

export const formatDomains = (ds: RemoteDomain[]) => (ds.length === 0 ? 'no domains' : ds.map((d) => `${d.name.padEnd(24)} ${d.state.padEnd(9)} ${d.uuid}`).join('\n'));

export const registerHost: Registrar = (kit: CliKit) => {
  // `vireo host` alone is this machine (main.ts); its subcommands are the libvirt hosts.
  const host = kit.program.commands.find((c) => c.name() === 'host') ?? kit.program.command('host');
  host.description(`${host.description()}; with a subcommand, other hosts: libvirt and paired Vireo hosts (add, ls, rm, vms, start …)`);
  host
    .command('add <name> <uri>')
    .description('add a libvirt host (qemu:///session, qemu+ssh://user@host/system, qemu+tls://host/system) or a Vireo host (vireo://addr:port with --secret); it must answer')
    .option('--secret <s>', "a Vireo host's pairing secret, as its `vireo serve` prints it")
    .action(kit.action(async (name: string, uri: string, o: { secret?: string }) =>
      kit.print(await kit.call('hosts.add', { name, uri, ...(o.secret ? { secret: o.secret } : {}) }), (h: RemoteHostStatus) => `added ${h.name} (${h.uri}): ${h.kind === 'vireo' ? h.hypervisorVersion : `libvirt ${h.libvirtVersion}, ${h.hypervisorVersion}`}`)));
  host
    .command('ls')
    .description("the library's hosts and whether each answers")
    .action(kit.action(async () => kit.print(await kit.call('hosts.list', {}), formatHosts as (r: never) => string)));
  host
    .command('rm <host>')
    .description('forget a host (its VMs stay on it)')
    .action(kit.action(async (ref: string) => kit.print(await kit.call('hosts.remove', { host: ref }), (r: { removed: string }) => `removed ${r.removed}`)));
  host
    .command('vms <host>')
    .description("a host's VMs (a libvirt host's domains, a Vireo host's library) with their state")
    .action(kit.action(async (ref: string) => kit.print(await kit.call('hosts.domains', { host: ref }), formatDomains as (r: never) => string)));
  for (const action of ['start', 'shutdown', 'poweroff', 'pause', 'resume', 'reboot'] as const) {
    host
      .command(`${action} <host> <domain>`)
      .description(`${action} a VM on a host`)
      .action(kit.action(async (ref: string, domain: string) => kit.print(await kit.call('hosts.control', { host: ref, domain, action }), (d: RemoteDomain) => `${d.name}: ${d.state}`)));
  }
};
