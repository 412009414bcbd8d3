import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { ensurePrivateDir, runtimeRoot } from '../paths.ts';

// The screen (or serial) of a domain on a qemu+ssh:// host: its unix socket is on that
// machine, so Vireo carries it over ssh, the way the URI itself reaches libvirt, and never
// opens a port: `ssh -N -L <local socket>:<remote socket>` (OpenSSH's streamlocal
// forwarding), the local socket 0600 in the engine's private runtime dir, BatchMode (no
// prompt; the identity and host key are those the URI's own ssh uses: ~/.ssh and the agent).
// The display bridge then dials the local socket. One tunnel per (host, domain, socket); it
// ends when its domain's sessions are revoked (power off, removal, a move, the engine's
// close) and is made again at the next open.

export const SSH = process.env.VIREO_SSH ?? 'ssh';

export interface SshTarget {
  user: string | null;
  host: string;
  port: number | null;
}

/** user, host and port of a qemu+ssh:// URI, or null for another transport. */
export function sshTarget(uri: string): SshTarget | null {
  const m = /^qemu\+ssh:\/\/(?:([A-Za-z0-9._][A-Za-z0-9._-]*)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?\//.exec(uri);
  if (!m) return null;
  return { user: m[1] ?? null, host: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : null };
}

/** ssh's argv for one forwarding; `--` ends the options, so no part can be read as one. */
export function tunnelArgv(t: SshTarget, local: string, remote: string): string[] {
  return [
    '-N', '-T',
    '-o', 'BatchMode=yes',
    '-o', 'ExitOnForwardFailure=yes',
    '-o', 'StreamLocalBindMask=0177',
    '-o', 'StreamLocalBindUnlink=yes',
    '-o', 'ServerAliveInterval=15',
    '-o', 'ControlPath=none',
    ...(t.port ? ['-p', String(t.port)] : []),
    ...(t.user ? ['-l', t.user] : []),
    '-L', `${local}:${remote}`,
    '--', t.host,
  ];
}

interface Tunnel {
  proc: ChildProcess;
  local: string;
  remote: string;
}

export class SshTunnels {
  private readonly open = new Map<string, Tunnel>();

  constructor(private readonly home: string) {}

  /** A local socket carrying `remote` on the URI's machine; the same one while it lives. */
  async forward(key: string, uri: string, remote: string): Promise<string> {
    const t = sshTarget(uri);
    if (!t) throw new VireoError('UNSUPPORTED', `not yet: the sockets of a domain on ${uri} are reached only through a qemu+ssh:// URI (another transport has no tunnel Vireo can make)`);
    // ssh splits -L at colons; libvirt never names its sockets so.
    if (!remote.startsWith('/') || remote.includes(':')) throw new VireoError('UNSUPPORTED', `the socket ${remote} on ${t.host} cannot be forwarded (not an absolute path without colons)`);
    const had = this.open.get(key);
    if (had && had.remote === remote && had.proc.exitCode === null && had.proc.signalCode === null && existsSync(had.local)) return had.local;
    if (had) this.close(key);
    const dir = ensurePrivateDir(runtimeRoot(this.home));
    const local = join(dir, `ssh-${createHash('sha256').update(key).digest('hex').slice(0, 12)}.sock`);
    rmSync(local, { force: true });
    const proc = spawn(SSH, tunnelArgv(t, local, remote), {
      stdio: ['ignore', 'ignore', 'pipe'],
      shell: false,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', HOME: process.env.HOME ?? '/', ...(process.env.SSH_AUTH_SOCK ? { SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK } : {}) },
    });
    let stderr = '';
    proc.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    proc.on('error', (e) => (stderr += String(e)));
    this.open.set(key, { proc, local, remote });
    const deadline = Date.now() + 30_000;
    while (!isSocket(local)) {
      if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
        this.close(key);
        throw new VireoError('TOOL_FAILED', `could not carry ${remote} from ${t.host} over ssh: ${stderr.trim().split('\n').slice(-2).join(' ') || 'ssh gave no answer in 30 s'} (the URI's ssh must log in without a prompt: a key in the agent or ~/.ssh, the host key known)`, { host: t.host });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return local;
  }

  /** Ends the tunnels whose key starts with `prefix` (all without one). */
  close(prefix?: string): void {
    for (const [key, t] of this.open) {
      if (prefix !== undefined && !key.startsWith(prefix)) continue;
      this.open.delete(key);
      t.proc.kill('SIGTERM');
      rmSync(t.local, { force: true });
    }
  }

  get size(): number {
    return this.open.size;
  }
}

function isSocket(p: string): boolean {
  try {
    return lstatSync(p).isSocket();
  } catch {
    return false;
  }
}
