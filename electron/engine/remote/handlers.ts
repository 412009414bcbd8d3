import { VireoError } from '../../api/errors.ts';
import type { Handlers } from '../../api/contract.ts';
import type { Caller } from '../../api/define.ts';
import type { RemoteHost } from '../../api/host-types.ts';
import type { EngineParts } from '../parts.ts';
import { createOnHost } from './create.ts';
import { consoleProblem, serialPaths } from './console.ts';
import { configToDomainXml, domainXmlToInfo } from './domxml.ts';
import { RemoteHosts } from './hosts.ts';
import { isLocalUri } from './virsh.ts';
import { SshTunnels, sshTarget } from './tunnel.ts';
import { migrateLive } from './migrate.ts';
import type { Migrations } from '../migrate/service.ts';
import { moveToLibvirt } from './offline.ts';
import { peerVmControl } from '../migrate/peer-client.ts';

// Remote hosts (issue 24): libvirt hosts as a second place VMs live. The methods are thin over
// RemoteHosts (hosts.ts) and virsh; the display of a domain goes through the engine's display
// bridge behind its token, reaching libvirt's VNC unix socket (over ssh for a qemu+ssh://
// host, tunnel.ts), so no port is opened.

type HostMethods = 'vms.migrate' | 'vms.move' | 'hosts.list' | 'hosts.add' | 'hosts.remove' | 'hosts.domains' | 'hosts.domain' | 'hosts.control' | 'hosts.snapshot' | 'hosts.create' | 'hosts.undefine' | 'hosts.display' | 'hosts.console' | 'hosts.domainXml' | 'hosts.migrate';

const ACTIONS = {
  start: ['start'],
  shutdown: ['shutdown'],
  poweroff: ['destroy'],
  pause: ['suspend'],
  resume: ['resume'],
  reboot: ['reboot'],
} as const;

/** The display bridge's id for a domain: never a Vireo VM id (those are UUIDs without a prefix). */
export const remoteDisplayId = (h: RemoteHost, domain: string) => `host:${h.id}:${domain}`;
/** The bridge's id for a domain's console: its own, so the console's hub and the screen's resolver never share one. */
export const remoteConsoleId = (h: RemoteHost, domain: string) => `hostconsole:${h.id}:${domain}`;

function localOnly(c: Caller, what: string): void {
  // A web client could otherwise make this machine open connections (ssh, TLS) anywhere.
  if (c.kind === 'web') throw new VireoError('UNAUTHORIZED', `${what} is refused over the web: run \`vireo host ${what === 'adding a host' ? 'add' : 'rm'} …\` on the machine that runs serve`);
}

export function remoteHandlers(p: EngineParts, migrations: Migrations, hosts = new RemoteHosts(p.home)): Pick<Handlers, HostMethods> {
  const { jobs, bridge, confine } = p;
  // Sockets of domains on qemu+ssh:// hosts, carried over ssh while their sessions live.
  const tunnels = new SshTunnels(p.home);
  bridge.onRevoke((id) => tunnels.close(id === undefined ? undefined : `${id}|`));
  const virshOf = async (ref: string) => {
    const h = await hosts.resolve(ref);
    return { h, v: hosts.virsh(h) };
  };
  return {
    'hosts.list': () => hosts.list(),
    'hosts.add': async (a, c) => (localOnly(c, 'adding a host'), hosts.add(a.name, a.uri, a.secret)),
    'vms.migrate': async (a) => {
      const h = await hosts.resolve(a.to);
      if (!h.secret) throw new VireoError('UNSUPPORTED', `not yet: moving a VM of this library onto the libvirt host ${h.name}; live moves go to Vireo hosts (vireo host add NAME vireo://ADDR:PORT --secret S)`, { field: 'to' });
      return migrations.move(h, a.vm, { bandwidthMiB: a.bandwidthMiB });
    },
    'vms.move': async (a) => {
      const h = await hosts.resolve(a.to);
      if (h.secret) return migrations.moveOffline(h, a.vm, { copy: a.copy, start: a.start });
      return moveToLibvirt(p, h, hosts.virsh(h), a.vm, { copy: a.copy, start: a.start });
    },
    'hosts.remove': async (a, c) => {
      localOnly(c, 'removing a host');
      const h = await hosts.resolve(a.host);
      // Its screens and consoles end with it, ssh forwardings included.
      for (const id of [remoteDisplayId(h, ''), remoteConsoleId(h, '')]) tunnels.close(id);
      return hosts.remove(a.host);
    },
    'hosts.domains': (a) => hosts.domains(a.host),
    'hosts.domain': (a) => hosts.details(a.host, a.domain),
    'hosts.control': async (a) => {
      const vh = await hosts.resolve(a.host);
      if (vh.secret) {
        const d = await peerVmControl(vh, a.domain, a.action);
        if (d.state !== 'running' && d.state !== 'paused') {
          bridge.revoke(remoteDisplayId(vh, a.domain));
          bridge.revoke(remoteConsoleId(vh, a.domain));
        }
        return d;
      }
      const { h, v } = await virshOf(a.host);
      await v.run([...ACTIONS[a.action], '--domain', a.domain], { timeoutMs: 120_000 });
      if (a.action === 'poweroff' || a.action === 'shutdown') {
        bridge.revoke(remoteDisplayId(h, a.domain));
        bridge.revoke(remoteConsoleId(h, a.domain));
      }
      return hosts.details(h.id, a.domain);
    },
    'hosts.snapshot': async (a) => {
      const { h, v } = await virshOf(a.host);
      const kind = a.op === 'save' ? 'snapshot-save' : a.op === 'restore' ? 'snapshot-restore' : 'snapshot-delete';
      await jobs.run({ kind, title: `${a.op} snapshot "${a.name}" of ${a.domain} on ${h.name}` }, async (job) => {
        job.progress(null);
        if (a.op === 'save') await v.run(['snapshot-create-as', '--domain', a.domain, '--name', a.name, ...(a.description ? ['--description', a.description] : [])], { timeoutMs: 30 * 60_000, signal: job.signal });
        else if (a.op === 'restore') await v.run(['snapshot-revert', '--domain', a.domain, '--snapshotname', a.name], { timeoutMs: 30 * 60_000 });
        else await v.run(['snapshot-delete', '--domain', a.domain, '--snapshotname', a.name], { timeoutMs: 30 * 60_000 });
      });
      return hosts.snapshots(h, a.domain);
    },
    'hosts.create': async (a, c) => {
      const { h, v } = await virshOf(a.host);
      const iso = a.iso ? await confine.existingFile(c, a.iso, 'iso', 'ISO') : undefined;
      const made = await jobs.run({ kind: 'create', title: `Create "${a.name}" on ${h.name}`, cancellable: true }, (job) => createOnHost(v, h, { ...a, ...(iso ? { iso } : {}) }, job));
      return { ...(await hosts.details(h.id, made.config.name)), dropped: made.dropped };
    },
    'hosts.undefine': async (a) => {
      const { h, v } = await virshOf(a.host);
      const d = await hosts.domain(h, a.domain);
      if (d.state !== 'stopped') throw new VireoError('INVALID_STATE', `${a.domain} on ${h.name} is ${d.libvirtState}: shut it down first`);
      const serialLog = a.removeStorage ? domainXmlToInfo(await v.run(['dumpxml', '--inactive', '--domain', a.domain])).console?.log : null;
      await v.run(['undefine', '--domain', a.domain, '--snapshots-metadata', '--nvram', ...(a.removeStorage ? ['--remove-all-storage'] : [])]);
      // The serial log sits in the pool's directory (console.ts), where libvirt lists it as a volume.
      if (serialLog) await v.run(['vol-delete', serialLog]).catch(() => {});
      bridge.revoke(remoteDisplayId(h, a.domain));
      bridge.revoke(remoteConsoleId(h, a.domain));
      return { removed: a.domain };
    },
    'hosts.display': async (a) => {
      const h = await hosts.resolve(a.host);
      if (h.secret) {
        // A VM on a Vireo host: its VNC carried over a TLS-PSK stream the paired channel opens (migrate/peer-screen.ts).
        const d = await hosts.domain(h, a.domain);
        if (d.state !== 'running' && d.state !== 'paused') throw new VireoError('INVALID_STATE', `${a.domain} on ${h.name} is ${d.libvirtState}: start it to see its screen`);
        const socketPath = await migrations.screens.open({ id: h.id, name: h.name, uri: h.uri, secret: h.secret }, d.name);
        return bridge.openSession({ kind: 'vnc', vmId: remoteDisplayId(h, a.domain), socketPath });
      }
      if (!isLocalUri(h.uri) && !sshTarget(h.uri)) throw new VireoError('UNSUPPORTED', `not yet: the screen of a domain on ${h.uri} needs libvirt's VNC carried over the connection, which Vireo does for qemu+ssh:// URIs only; use one of those or virt-viewer`);
      const d = await hosts.domain(h, a.domain);
      if (d.state !== 'running' && d.state !== 'paused') throw new VireoError('INVALID_STATE', `${a.domain} on ${h.name} is ${d.libvirtState}: start it to see its screen`);
      if (!isLocalUri(h.uri)) {
        // libvirt's VNC unix socket on that machine, forwarded to one here over ssh (tunnel.ts).
        const g = domainXmlToInfo(await hosts.virsh(h).run(['dumpxml', '--domain', a.domain])).graphics;
        if (g?.type !== 'vnc' || !g.socket) throw new VireoError('UNSUPPORTED', `${a.domain} on ${h.name} has no VNC screen on a unix socket: give it <graphics type='vnc'><listen type='socket'/></graphics> (Vireo-made domains have it); a TCP VNC port is not carried`);
        const id = remoteDisplayId(h, a.domain);
        const local = await tunnels.forward(`${id}|vnc`, h.uri, g.socket);
        return bridge.openSession({ kind: 'vnc', vmId: id, socketPath: () => local });
      }
      const sock = await hosts.vncSocket(h, a.domain);
      if (!sock) throw new VireoError('UNSUPPORTED', `${a.domain} on ${h.name} has no VNC screen on a unix socket: give it <graphics type='vnc'><listen type='socket'/></graphics> (Vireo-made domains have it)`);
      return bridge.openSession({ kind: 'vnc', vmId: remoteDisplayId(h, a.domain), socketPath: () => sock });
    },
    'hosts.console': async (a) => {
      const h = await hosts.resolve(a.host);
      if (h.secret) {
        // Its serial socket there, carried like the screen (migrate/peer-screen.ts); the target refuses a VM without a serial port.
        const d = await hosts.domain(h, a.domain);
        if (d.state !== 'running' && d.state !== 'paused') throw new VireoError('INVALID_STATE', `${a.domain} on ${h.name} is ${d.libvirtState}: start it to use its console`);
        const socketPath = await migrations.screens.open({ id: h.id, name: h.name, uri: h.uri, secret: h.secret }, d.name, 'serial');
        return bridge.openSession({ kind: 'serial', vmId: remoteConsoleId(h, a.domain), socketPath });
      }
      if (!isLocalUri(h.uri) && !sshTarget(h.uri)) throw new VireoError('UNSUPPORTED', `not yet: the serial console of a domain on ${h.uri} needs its unix socket carried over the connection, which Vireo does for qemu+ssh:// URIs only; use virsh console on the host`);
      const d = await hosts.domain(h, a.domain);
      if (d.state !== 'running' && d.state !== 'paused') throw new VireoError('INVALID_STATE', `${a.domain} on ${h.name} is ${d.libvirtState}: start it to use its console`);
      const info = domainXmlToInfo(await hosts.virsh(h).run(['dumpxml', '--domain', a.domain]));
      const problem = consoleProblem(info.console ?? null, a.domain);
      if (problem) throw new VireoError('UNSUPPORTED', problem);
      const id = remoteConsoleId(h, a.domain);
      // On a qemu+ssh:// host the socket is there: carried over ssh like the screen (tunnel.ts).
      const sock = isLocalUri(h.uri) ? info.console!.socket! : await tunnels.forward(`${id}|serial`, h.uri, info.console!.socket!);
      return bridge.openSession({ kind: 'serial', vmId: id, socketPath: () => sock });
    },
    'hosts.migrate': async (a) => {
      const src = await virshOf(a.host);
      const dst = await virshOf(a.to);
      if (src.h.id === dst.h.id) throw new VireoError('INVALID_ARGUMENT', `${a.domain} is already on ${src.h.name}: choose another host`, { field: 'to' });
      await jobs.run({ kind: 'migrate', title: `Move ${a.domain} from ${src.h.name} to ${dst.h.name} (live)`, cancellable: true }, (job) =>
        migrateLive(src, dst, a.domain, { address: a.address, pool: a.pool, bandwidthMiB: a.bandwidthMiB }, job),
      );
      // Its screen now comes from the target: the old session's socket is gone with the source's QEMU.
      bridge.revoke(remoteDisplayId(src.h, a.domain));
      bridge.revoke(remoteConsoleId(src.h, a.domain));
      return hosts.details(dst.h.id, a.domain);
    },
    'hosts.domainXml': async (a) => {
      const v = p.vms.resolve(a.vm);
      if (!v.config) throw new VireoError('BROKEN_CONFIG', `"${a.vm}" has a broken config: repair it first`);
      const diskPaths = Object.fromEntries(v.config.disks.map((d) => [d.id, `${a.storageDir ?? '/var/lib/libvirt/images'}/${v.config!.name}-${d.id}.${d.format}`]));
      const sp = serialPaths(a.storageDir ? 'qemu:///session' : 'qemu:///system', a.storageDir ?? '/var/lib/libvirt/images', v.config.name, v.config.id);
      return configToDomainXml(v.config, { domainType: a.domainType ?? 'qemu', diskPaths, isoPath: v.config.cdrom.iso, serial: 'problem' in sp ? null : sp });
    },
  };
}
