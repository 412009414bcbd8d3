import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { RemoteDomain, RemoteDomainDetails, RemoteDomainState, RemoteHost, RemoteHostStatus, RemoteSnapshot } from '../../api/host-types.ts';
import { writeFileAtomic } from '../util/fs-atomic.ts';
import { domainXmlToInfo } from './domxml.ts';
import { child, parseXml, textOf } from './xml.ts';
import { checkUri, isLocalUri, Virsh } from './virsh.ts';
import { parseVireoUri, PeerChannel } from '../migrate/channel.ts';
import { PAIRING_RE } from '../migrate/pairing.ts';
import { peerVmDetails, vireoState } from '../migrate/peer-client.ts';

// The library's hosts: a URI and a name each, kept in <library>/hosts.json (written atomically,
// mode 0600). Everything about a libvirt host's domains is asked of libvirt through virsh each
// time: libvirt owns those domains, Vireo keeps no copy that could go stale. A Vireo host
// (vireo://addr:port, another engine's `vireo serve`) also keeps the pairing secret it printed,
// which no API answer carries; it is asked over the paired control channel (migrate/channel.ts).

const FILE = 'hosts.json';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

interface HostsFile {
  version: 1;
  hosts: RemoteHost[];
}

export class RemoteHosts {
  private cache: RemoteHost[] | null = null;

  constructor(private readonly home: string) {}

  private get file() {
    return join(this.home, FILE);
  }

  async all(): Promise<RemoteHost[]> {
    if (this.cache) return this.cache;
    const text = await readFile(this.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (text === null) return (this.cache = []);
    try {
      const f = JSON.parse(text) as HostsFile;
      if (f.version !== 1 || !Array.isArray(f.hosts)) throw new Error(`unknown version ${String(f.version)}`);
      return (this.cache = f.hosts.filter((h) => typeof h.id === 'string' && typeof h.uri === 'string' && typeof h.name === 'string'));
    } catch (e) {
      throw new VireoError('BROKEN_CONFIG', `${this.file} is not a hosts file Vireo can read (${(e as Error).message}): move it away and add the hosts again`);
    }
  }

  private async save(hosts: RemoteHost[]): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, hosts } satisfies HostsFile, null, 2) + '\n', 0o600);
    this.cache = hosts;
  }

  async resolve(ref: string): Promise<RemoteHost> {
    const hosts = await this.all();
    const h = hosts.find((x) => x.id === ref) ?? hosts.find((x) => x.name === ref);
    if (!h) throw new VireoError('NOT_FOUND', `no host "${ref}": \`vireo host ls\` lists them, \`vireo host add NAME URI\` adds one`, { host: ref });
    return h;
  }

  virsh(h: RemoteHost): Virsh {
    if (h.secret) throw new VireoError('UNSUPPORTED', `not yet: ${h.name} is a Vireo host; Vireo moves VMs there (vireo migrate VM --to ${h.name}), and manages them through its own \`vireo serve\``);
    return new Virsh(h.uri);
  }

  /** Adds a host after reaching it: a URI libvirt (or a paired Vireo serve) does not answer on is not stored. */
  async add(name: string, uri: string, secret?: string): Promise<RemoteHostStatus> {
    if (!NAME_RE.test(name)) throw new VireoError('INVALID_ARGUMENT', `host name "${name}": use 1-64 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit`, { field: 'name' });
    const vireo = uri.startsWith('vireo:');
    const bad = vireo ? (parseVireoUri(uri) ? null : `${uri} is not a Vireo host address: write vireo://ADDRESS:PORT (what \`vireo serve\` listens on there)`) : checkUri(uri);
    if (bad) throw new VireoError('INVALID_ARGUMENT', bad, { field: 'uri' });
    if (vireo && !secret) throw new VireoError('INVALID_ARGUMENT', `a Vireo host is paired by the secret its \`vireo serve\` prints ("pairing secret: …"): give it with --secret`, { field: 'secret' });
    if (secret && (!vireo || !PAIRING_RE.test(secret))) throw new VireoError('INVALID_ARGUMENT', vireo ? 'the pairing secret is 20-200 letters, digits, "-" or "_": copy it whole from the target\'s `vireo serve`' : 'a secret pairs Vireo hosts (vireo://…); libvirt hosts authenticate through their URI', { field: 'secret' });
    const hosts = await this.all();
    if (hosts.some((h) => h.name === name)) throw new VireoError('ALREADY_EXISTS', `a host named "${name}" exists: choose another name or remove it first`, { field: 'name' });
    if (hosts.some((h) => h.uri === uri)) throw new VireoError('ALREADY_EXISTS', `${uri} is already added as "${hosts.find((h) => h.uri === uri)!.name}"`, { field: 'uri' });
    const host: RemoteHost = { id: randomUUID(), name, uri, addedAt: new Date().toISOString(), ...(secret ? { secret } : {}) };
    const st = await this.status(host);
    if (!st.reachable) throw new VireoError(vireo && /pairing secret/.test(st.reason ?? '') ? 'UNAUTHORIZED' : 'TOOL_FAILED', vireo ? `cannot pair with ${uri}: ${st.reason}; nothing was added` : `cannot reach libvirt at ${uri}: ${st.reason} — check that libvirtd (or virtqemud) runs there and the URI is right; nothing was added`, { field: vireo ? 'secret' : 'uri' });
    await this.save([...hosts, host]);
    return st;
  }

  /** A Vireo host's control channel, paired (the caller closes it). */
  peer(h: RemoteHost): Promise<PeerChannel> {
    if (!h.secret) throw new VireoError('INVALID_ARGUMENT', `${h.name} is a libvirt host, not a Vireo one`);
    return PeerChannel.connect(h.uri, h.secret);
  }

  async remove(ref: string): Promise<{ removed: string }> {
    const h = await this.resolve(ref);
    await this.save((await this.all()).filter((x) => x.id !== h.id));
    return { removed: h.name };
  }

  async status(h: RemoteHost): Promise<RemoteHostStatus> {
    const { secret: _secret, ...shown } = h;
    if (h.secret) {
      const base = { ...shown, localSockets: false, kind: 'vireo' as const, libvirtVersion: null };
      try {
        const ch = await this.peer(h);
        try {
          const hello = await ch.call<{ qemuVersion: string; hostname: string }>('hello', {}, 20_000);
          return { ...base, reachable: true, reason: null, hypervisorVersion: `QEMU ${hello.qemuVersion} (Vireo on ${hello.hostname})` };
        } finally {
          ch.close();
        }
      } catch (e) {
        return { ...base, reachable: false, reason: (e as Error).message, hypervisorVersion: null };
      }
    }
    const base = { ...shown, localSockets: isLocalUri(h.uri), kind: 'libvirt' as const };
    try {
      const out = await this.virsh(h).run(['version'], { timeoutMs: 20_000 });
      const lib = /Using library: libvirt (\S+)/.exec(out)?.[1] ?? null;
      const hv = /Running hypervisor: (.+)/.exec(out)?.[1]?.trim() ?? null;
      return { ...base, reachable: true, reason: null, libvirtVersion: lib, hypervisorVersion: hv };
    } catch (e) {
      return { ...base, reachable: false, reason: (e as Error).message, libvirtVersion: null, hypervisorVersion: null };
    }
  }

  async list(): Promise<RemoteHostStatus[]> {
    return Promise.all((await this.all()).map((h) => this.status(h)));
  }

  async domains(ref: string): Promise<RemoteDomain[]> {
    const h = await this.resolve(ref);
    if (h.secret) {
      const ch = await this.peer(h);
      try {
        const list = await ch.call<{ id: string; name: string; state: string }[]>('list', {}, 20_000);
        return list.map((x) => ({ hostId: h.id, name: x.name, uuid: x.id, state: vireoState(x.state), libvirtState: x.state, persistent: true }));
      } finally {
        ch.close();
      }
    }
    const v = this.virsh(h);
    const names = (await v.run(['list', '--all', '--name'])).split('\n').map((s) => s.trim()).filter(Boolean);
    const out = await Promise.allSettled(names.map((n) => this.domain(h, n)));
    // A domain undefined between the two calls is simply gone.
    return out.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  async domain(h: RemoteHost, name: string): Promise<RemoteDomain> {
    if (h.secret) {
      const { info: _info, snapshots: _snapshots, ...d } = await peerVmDetails(h, name);
      return d;
    }
    const info = parseColonTable(await this.virsh(h).run(['dominfo', '--domain', name]));
    const libvirtState = info.State ?? 'unknown';
    return { hostId: h.id, name: info.Name ?? name, uuid: info.UUID ?? '', state: mapState(libvirtState), libvirtState, persistent: info.Persistent === 'yes' };
  }

  async details(ref: string, name: string): Promise<RemoteDomainDetails> {
    const h = await this.resolve(ref);
    if (h.secret) return peerVmDetails(h, name);
    const d = await this.domain(h, name);
    const xml = await this.virsh(h).run(['dumpxml', '--domain', name]);
    return { ...d, info: domainXmlToInfo(xml), snapshots: await this.snapshots(h, name) };
  }

  async snapshots(h: RemoteHost, name: string): Promise<RemoteSnapshot[]> {
    const v = this.virsh(h);
    const names = (await v.run(['snapshot-list', '--domain', name, '--name'])).split('\n').map((s) => s.trim()).filter(Boolean);
    const current = names.length ? (await v.run(['snapshot-current', '--domain', name, '--name']).catch(() => '')).trim() : '';
    return Promise.all(
      names.map(async (s) => {
        const x = parseXml(await v.run(['snapshot-dumpxml', '--domain', name, '--snapshotname', s]));
        const t = Number(textOf(child(x, 'creationTime')));
        return {
          name: s,
          parent: textOf(child(child(x, 'parent'), 'name')) || null,
          createdAt: t ? new Date(t * 1000).toISOString() : null,
          state: textOf(child(x, 'state')),
          current: s === current,
          description: textOf(child(x, 'description')),
        };
      }),
    );
  }

  /** The live domain's VNC unix socket, when its sockets are on this machine. */
  async vncSocket(h: RemoteHost, name: string): Promise<string | null> {
    if (!isLocalUri(h.uri)) return null;
    const info = domainXmlToInfo(await this.virsh(h).run(['dumpxml', '--domain', name]));
    const sock = info.graphics?.type === 'vnc' ? info.graphics.socket : null;
    if (!sock) return null;
    return (await stat(sock).then((s) => s.isSocket()).catch(() => false)) ? sock : null;
  }
}

export function parseColonTable(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) r[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return r;
}

export function mapState(s: string): RemoteDomainState {
  if (s === 'running' || s === 'idle' || s === 'in shutdown') return 'running';
  if (s === 'paused') return 'paused';
  if (s === 'shut off') return 'stopped';
  if (s === 'crashed') return 'crashed';
  if (s === 'pmsuspended') return 'suspended';
  return 'other';
}
