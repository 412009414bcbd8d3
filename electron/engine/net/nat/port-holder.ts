import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { VireoError } from '../../../api/errors.ts';
import type { PortForward } from '../../../api/schemas/vm-config.ts';

// Whether a forward's host port can be bound, and if not, who holds it. The test is a real
// bind (what QEMU's slirp or passt will do next), so nothing is guessed from tables. When it
// fails, Linux tells the holder: the socket's inode in /proc/net/{tcp,tcp6,udp,udp6}, then the
// process whose /proc/<pid>/fd links to that inode. Elsewhere (or for another user's process,
// whose fds we may not read) the message says "another program".

export interface PortHolder {
  pid: number;
  comm: string;
}

type Proto = PortForward['protocol'];
type Fwd = Pick<PortForward, 'protocol' | 'hostAddress' | 'hostPort'>;

export const fwdLabel = (f: Fwd) => `${f.hostAddress.includes(':') ? `[${f.hostAddress}]` : f.hostAddress}:${f.hostPort}/${f.protocol}`;

/** Binds and releases the forward's host address and port; resolves to the bind error's code, or null when free. */
export function tryBind(f: Fwd): Promise<string | null> {
  return new Promise((resolve) => {
    if (f.protocol === 'tcp') {
      const srv = createServer();
      srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'EIO'));
      srv.listen({ host: f.hostAddress, port: f.hostPort, exclusive: true }, () => srv.close(() => resolve(null)));
    } else {
      const sock = createSocket(isIP(f.hostAddress) === 6 ? 'udp6' : 'udp4');
      sock.once('error', (e: NodeJS.ErrnoException) => {
        sock.close();
        resolve(e.code ?? 'EIO');
      });
      sock.bind({ address: f.hostAddress, port: f.hostPort, exclusive: true }, () => sock.close(() => resolve(null)));
    }
  });
}

/** "0100007F:1F90" (little-endian IPv4 as Linux prints it) or the IPv6 form → port and a plain address. */
function parseProcAddr(hex: string): { addr: string; port: number } {
  const [a, p] = hex.split(':');
  const port = Number.parseInt(p!, 16);
  if (a!.length === 8) {
    const b = Buffer.from(a!, 'hex');
    return { addr: `${b[3]}.${b[2]}.${b[1]}.${b[0]}`, port };
  }
  // IPv6: four 32-bit words, each little-endian.
  const words = a!.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse().toString('hex'));
  const groups = words.join('').match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ''));
  return { addr: groups.join(':'), port };
}

const WILDCARDS = new Set(['0.0.0.0', '0:0:0:0:0:0:0:0', '::']);

/** Socket inodes bound to the port (TCP: listening only) on the address or a wildcard one. */
export async function inodesFor(proto: Proto, address: string, port: number): Promise<string[]> {
  const out: string[] = [];
  for (const table of proto === 'tcp' ? ['tcp', 'tcp6'] : ['udp', 'udp6']) {
    const text = await readFile(`/proc/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = parseProcAddr(cols[1]!);
      if (local.port !== port) continue;
      if (proto === 'tcp' && cols[3] !== '0A') continue; // 0A: LISTEN
      if (local.addr === address || WILDCARDS.has(local.addr) || WILDCARDS.has(address) || address === '::') out.push(cols[9]!);
    }
  }
  return out.filter((i) => i !== '0');
}

/** The process holding one of these socket inodes, from a scan of /proc/<pid>/fd (Linux). */
export async function processOfInodes(inodes: readonly string[]): Promise<PortHolder | null> {
  if (!inodes.length) return null;
  const wanted = new Set(inodes.map((i) => `socket:[${i}]`));
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (wanted.has(link)) {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
        return { pid: Number(pid), comm };
      }
    }
  }
  return null;
}

/** Who holds the forward's host port, where the OS tells; null when not found out. */
export async function portHolder(f: Fwd): Promise<PortHolder | null> {
  if (process.platform !== 'linux') return null;
  return processOfInodes(await inodesFor(f.protocol, f.hostAddress, f.hostPort));
}

/**
 * Refuses (before anything changes) a forward whose host port cannot be bound: IN_USE naming
 * the holder where the OS tells, or INVALID_ARGUMENT for an address this host does not have.
 */
export async function assertPortFree(f: Fwd): Promise<void> {
  const err = await tryBind(f);
  if (!err) return;
  const label = fwdLabel(f);
  if (err === 'EADDRINUSE') {
    const holder = await portHolder(f);
    const who = holder ? `process ${holder.pid} (${holder.comm})` : 'another program';
    throw new VireoError('IN_USE', `host port ${label} is in use by ${who}: stop it or choose another host port`, {
      field: 'hostPort',
      ...(holder ? { pid: holder.pid, comm: holder.comm } : {}),
    });
  }
  if (err === 'EADDRNOTAVAIL') {
    throw new VireoError('INVALID_ARGUMENT', `host address ${f.hostAddress} is not an address of this host: use 127.0.0.1 (this host only) or one of its interface addresses`, { field: 'hostAddress' });
  }
  if (err === 'EACCES') {
    throw new VireoError('INVALID_ARGUMENT', `host port ${label} needs privileges this account lacks (ports below 1024 usually do): choose a port of 1024 or above`, { field: 'hostPort' });
  }
  throw new VireoError('IO_ERROR', `cannot bind host port ${label}: ${err}`, { field: 'hostPort', errno: err });
}
