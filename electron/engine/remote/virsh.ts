import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { run } from '../util/proc.ts';

// libvirt through its own client: `virsh -c URI …` with an argv array (never a shell); domain
// XML goes to libvirt over the connection (define), no libvirt file is edited by hand. Every failure carries virsh's own message and the URI.

export const VIRSH = process.env.VIREO_VIRSH ?? 'virsh';

/** A URI whose sockets (VNC, console) are on this machine: session or system over unix sockets. */
export function isLocalUri(uri: string): boolean {
  const m = /^([a-z0-9]+)(?:\+([a-z0-9]+))?:\/\/([^/]*)\//i.exec(uri);
  if (!m) return false;
  const transport = m[2]?.toLowerCase();
  return (!transport || transport === 'unix') && (m[3] === '' || m[3] === 'localhost');
}

/** Checks a libvirt URI's shape; the connection itself is tried by the caller. */
export function checkUri(uri: string): string | null {
  if (!/^[a-z][a-z0-9]*(\+[a-z0-9]+)?:\/\/[^\s]*\/[^\s]*$/i.test(uri)) return `"${uri}" is not a libvirt URI: give one like qemu:///session, qemu+ssh://user@host/system or qemu+tls://host/system`;
  if (!/^qemu(\+|:)/i.test(uri)) return `"${uri}" is not a QEMU/KVM URI: Vireo drives libvirt's qemu driver (qemu:///…, qemu+ssh://…, qemu+tls://…)`;
  // ssh's own options would run commands (ProxyCommand, -oLocalCommand): refused in the URI.
  if (/[?&](command|netcat|keyfile|known_hosts_verify)=/i.test(uri) && !/^qemu\+unix:/i.test(uri)) return `"${uri}": the command, netcat, keyfile and known_hosts_verify parameters are not accepted; configure ssh in ~/.ssh/config instead`;
  return null;
}

export class Virsh {
  constructor(readonly uri: string) {}

  async run(args: string[], opts: { input?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
    try {
      const r = await run(VIRSH, ['-q', '-c', this.uri, ...args], {
        ...(opts.input !== undefined ? { input: opts.input } : {}),
        timeoutMs: opts.timeoutMs ?? 60_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', HOME: process.env.HOME ?? '/', ...(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {}), ...(process.env.SSH_AUTH_SOCK ? { SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK } : {}) },
      });
      return r.stdout;
    } catch (e) {
      if (!(e instanceof VireoError)) throw e;
      if (/was not found/.test(e.message) && !(e.details as { exitCode?: number } | undefined)?.exitCode) {
        throw new VireoError('UNSUPPORTED', 'virsh is not installed: install libvirt-clients (Debian/Ubuntu) or libvirt-client (Fedora) to use libvirt hosts');
      }
      if (e.code === 'CANCELLED') throw e;
      const msg = virshMessage((e.details as { stderr?: string } | undefined)?.stderr || e.message);
      const code = /failed to get domain|Domain not found|no domain with matching|snapshot not found|no domain snapshot with matching/i.test(msg) ? 'NOT_FOUND' : /is not running|already active|not paused|already running|domain is not running|not suspended/i.test(msg) ? 'INVALID_STATE' : /already exists/i.test(msg) ? 'ALREADY_EXISTS' : e.code === 'TIMEOUT' ? 'TIMEOUT' : 'TOOL_FAILED';
      throw new VireoError(code, `libvirt at ${this.uri}: ${msg}`, { uri: this.uri, args });
    }
  }

  /**
   * Domain XML defined from a string. virsh reads it from a file on the client side (its
   * stdin is a socket under Node, which /dev/stdin cannot open): a private temp file, removed
   * at once; the host gets the XML over the connection.
   */
  define(xml: string): Promise<string> {
    return this.withFile(xml, (file) => ['define', file]);
  }

  /** virsh run with an XML document in a private temp file (see define), `args(file)` naming it. */
  async withFile(xml: string, args: (file: string) => string[], signal?: AbortSignal): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'vireo-domxml-'));
    try {
      const file = join(dir, 'doc.xml');
      await writeFile(file, xml, { mode: 0o600 });
      return await this.run(args(file), signal ? { signal } : {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** virsh's "error: …" lines, without the argv noise of the generic tool error. */
function virshMessage(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('error:'));
  return lines.length ? lines.map((l) => l.replace(/^error:\s*/, '')).join('; ') : text.split('\n').slice(-3).join(' ').trim();
}
