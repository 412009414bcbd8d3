import { existsSync } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { runSettled, spawnDetached, tail } from '../util/proc.ts';
import type { HelperProcess } from '../vm/helpers.ts';
import { pidAlive, terminate } from '../vm/process.ts';

// virtiofsd, the helper process behind a virtiofs share: one per share, started before QEMU,
// reached over a vhost-user socket in the VM's runtime folder. Two programs carry the name:
// - QEMU's C virtiofsd (Debian 12: /usr/lib/qemu/virtiofsd, `-o source=…`), which must run
//   as root (it refuses otherwise) and has no read-only mode;
// - the Rust virtiofsd (Debian 13 and Fedora: /usr/libexec/virtiofsd, `--shared-dir …`),
//   which runs unprivileged with `--sandbox none` and may offer `--readonly`.
// Which one is here, and what it can do, is probed from the binary itself, not assumed.
// Both exit by themselves once QEMU closes the socket; a pidfile of ours lets a later
// engine stop one that outlived its QEMU.

export type VirtiofsdFlavour = 'c' | 'rust';

export interface Virtiofsd {
  binary: string;
  flavour: VirtiofsdFlavour;
  version: string;
  /** it has a read-only mode (probed from --help) */
  readOnly: boolean;
}

/** Where distributions put it, after $VIREO_VIRTIOFSD and PATH. */
export const VIRTIOFSD_PLACES = ['/usr/libexec/virtiofsd', '/usr/lib/virtiofsd', '/usr/lib/qemu/virtiofsd', '/usr/libexec/qemu/virtiofsd'];

export const VIRTIOFSD_INSTALL_HINT =
  'install the Rust virtiofsd (Debian 13/Ubuntu 24.04 `apt install virtiofsd`, Fedora `dnf install virtiofsd`), which runs without root; Debian 12 ships only the C one (package qemu-system-common, /usr/lib/qemu/virtiofsd), which needs root';

export function virtiofsdCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromPath = (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'virtiofsd'));
  return [...(env.VIREO_VIRTIOFSD ? [env.VIREO_VIRTIOFSD] : []), ...fromPath, ...VIRTIOFSD_PLACES];
}

/** Reads what a virtiofsd binary is from its --version and --help; null when it is not one. */
export async function probeVirtiofsd(binary: string): Promise<Virtiofsd | null> {
  const v = await runSettled(binary, ['--version'], { timeoutMs: 10_000 });
  if (v.spawnError || v.code !== 0) return null;
  const text = `${v.stdout}\n${v.stderr}`;
  // C: "virtiofsd version 7.2.22 (Debian …)"; Rust: "virtiofsd 1.13.3" (or "virtiofsd backend 1.x").
  const c = /virtiofsd version (\d+\.\d+(?:\.\d+)?)/.exec(text);
  const rust = /virtiofsd(?: backend)? v?(\d+\.\d+\.\d+)/.exec(text);
  if (!c && !rust) return null;
  const help = await runSettled(binary, ['--help'], { timeoutMs: 10_000 });
  const helpText = `${help.stdout}\n${help.stderr}`;
  return { binary, flavour: c ? 'c' : 'rust', version: (c ?? rust)![1]!, readOnly: /--readonly\b/.test(helpText) };
}

/** The first virtiofsd found; `candidates` for tests. */
export async function findVirtiofsd(candidates = virtiofsdCandidates()): Promise<{ found: Virtiofsd | null; looked: string[] }> {
  const looked = [...new Set(candidates)];
  for (const b of looked) {
    if (!existsSync(b)) continue;
    const p = await probeVirtiofsd(b);
    if (p) return { found: p, looked };
  }
  return { found: null, looked };
}

/** The C virtiofsd refuses to run unless it is root; the Rust one does not need it. */
export function needsRoot(d: Virtiofsd): boolean {
  return d.flavour === 'c';
}

export interface VirtiofsdOptions {
  /** found at start when not given (helpersFor is synchronous; the probe is not) */
  daemon?: Virtiofsd;
  /** the host folder */
  source: string;
  readOnly: boolean;
  socket: string;
  pidFile: string;
  logFile: string;
  timeoutMs?: number;
}

export function virtiofsdArgs(o: { daemon: Virtiofsd; source: string; readOnly: boolean; socket: string }, uid = process.getuid?.() ?? -1): string[] {
  if (o.daemon.flavour === 'c') {
    // -o takes a comma-separated list, so a comma in the folder would split it (refused before).
    return [`--socket-path=${o.socket}`, '-o', `source=${o.source}`, '-o', 'cache=auto', '-o', 'sandbox=namespace'];
  }
  // Unprivileged, the Rust one cannot create namespaces without a user namespace set up for
  // it; "none" keeps it in our own (files then belong to the user running it, as with 9p).
  return [`--socket-path=${o.socket}`, `--shared-dir=${o.source}`, '--cache=auto', `--sandbox=${uid === 0 ? 'namespace' : 'none'}`, ...(o.readOnly ? ['--readonly'] : [])];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = pidAlive;
const exists = (p: string) => stat(p).then(() => true, () => false);

/** Why this share (or, with tag null, any share) cannot be served by this virtiofsd, or null. */
export function refusal(o: { daemon: Virtiofsd; source: string; readOnly: boolean }, tag: string | null, uid = process.getuid?.() ?? -1): string | null {
  const who = tag ? `virtiofs share "${tag}": ` : '';
  const what = `${o.daemon.binary} (${o.daemon.flavour === 'c' ? "QEMU's C" : 'the Rust'} virtiofsd ${o.daemon.version})`;
  if (needsRoot(o.daemon) && uid !== 0) {
    return `${who}${what} only runs as root, and Vireo runs as uid ${uid}: run Vireo as root, use 9p, or ${VIRTIOFSD_INSTALL_HINT}`;
  }
  if (o.readOnly && !o.daemon.readOnly) {
    return `${who}the share is read-only, but ${what} has no read-only mode, so the guest could write: make the share 9p (which can be read-only), or turn read-only off`;
  }
  if (o.daemon.flavour === 'c' && o.source.includes(',')) {
    return `${who}the C virtiofsd cannot take a folder whose path contains a comma (${o.source}): rename the folder or use 9p`;
  }
  return null;
}

/** virtiofsd as one of a VM's helper processes, found again by its pidfile. */
export function virtiofsdHelper(tag: string, o: VirtiofsdOptions): HelperProcess & { readonly socket: string } {
  return {
    name: `virtiofsd (${tag})`,
    socket: o.socket,
    start: () => startVirtiofsd(tag, o),
    stop: () => stopVirtiofsd(o.socket, o.pidFile),
  };
}

export async function startVirtiofsd(tag: string, opts: VirtiofsdOptions): Promise<void> {
  const found = opts.daemon ? { found: opts.daemon, looked: [] } : await findVirtiofsd();
  if (!found.found) throw new VireoError('UNSUPPORTED', `virtiofs share "${tag}": no virtiofsd found (looked in ${found.looked.join(', ')}): ${VIRTIOFSD_INSTALL_HINT}, or use 9p`, { tag });
  const o = { ...opts, daemon: found.found };
  const why = refusal(o, tag);
  if (why) throw new VireoError('UNSUPPORTED', why, { tag, binary: o.daemon.binary });
  const st = await stat(o.source).catch(() => null);
  if (!st?.isDirectory()) throw new VireoError('NOT_FOUND', `shared folder "${tag}": ${o.source} is not a folder (any more): create it, or remove the share in Settings → Shared folders`, { tag, path: o.source });
  // A leftover one for this socket (its QEMU never connected) would hold it.
  await stopVirtiofsd(o.socket, o.pidFile);
  const args = virtiofsdArgs(o);
  const log = await open(o.logFile, 'a', 0o600);
  let started;
  try {
    started = await spawnDetached(o.daemon.binary, args, { stdio: ['ignore', log.fd, log.fd] });
  } finally {
    await log.close();
  }
  const { child } = started;
  let exitInfo: string | null = null;
  let spawnError: Error | null = null;
  child.on('exit', (code, signal) => (exitInfo = signal ? `killed by ${signal}` : `exit code ${code}`));
  started.spawnFailed.catch((e: Error) => (spawnError = e));
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  for (;;) {
    if (spawnError) throw new VireoError('TOOL_FAILED', `could not start virtiofsd for share "${tag}": ${(spawnError as Error).message}`, { argv: [o.daemon.binary, ...args] });
    if (exitInfo !== null) {
      const text = await readFile(o.logFile, 'utf8').catch(() => '');
      throw new VireoError('TOOL_FAILED', `virtiofsd for share "${tag}" exited while starting (${exitInfo}): ${tail(text, 3) || 'no log output'}; see ${o.logFile}`, { argv: [o.daemon.binary, ...args], log: tail(text) });
    }
    if (await exists(o.socket)) break;
    if (Date.now() > deadline) {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      throw new VireoError('TIMEOUT', `virtiofsd for share "${tag}" did not create ${o.socket} within ${o.timeoutMs ?? 10_000} ms; see ${o.logFile}`, { argv: [o.daemon.binary, ...args] });
    }
    await sleep(20);
  }
  await writeFile(o.pidFile, `${child.pid}\n`, { mode: 0o600 });
}

/** The pid in the pidfile when that process is alive and is the virtiofsd of this socket. */
export async function virtiofsdPid(socket: string, pidFile: string): Promise<number | null> {
  const text = await readFile(pidFile, 'utf8').catch(() => null);
  const pid = text === null ? NaN : Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  // A reused pid is a stranger: only signal a virtiofsd serving this very socket.
  if (process.platform === 'linux') {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.endsWith('virtiofsd') || !argv.includes(`--socket-path=${socket}`)) return null;
  }
  return pid;
}

/** Stops the virtiofsd of a socket (SIGTERM, then SIGKILL) and removes its files; idempotent. */
export async function stopVirtiofsd(socket: string, pidFile: string, graceMs = 3000): Promise<void> {
  const pid = await virtiofsdPid(socket, pidFile);
  if (pid !== null) await terminate(pid, graceMs);
  await rm(socket, { force: true });
  await rm(pidFile, { force: true });
}

/** virtiofsd's files for share i of a VM: socket and pidfile in its short runtime folder. */
export const virtiofsFiles = (runtimeDir: string, logsDir: string, i: number) => ({
  socket: join(runtimeDir, `vfs${i}.sock`),
  pidFile: join(runtimeDir, `vfs${i}.pid`),
  logFile: join(logsDir, `virtiofsd-${i}.log`),
});

/** One helper per virtiofs share, and the socket each one serves (for argv), keyed by tag. */
export function virtiofsHelpers(
  shares: ReadonlyArray<{ tag: string; path: string; readOnly: boolean; type: string }>,
  dirs: { runtime: string; logs: string },
): { helpers: HelperProcess[]; sockets: Record<string, string> } {
  const helpers: HelperProcess[] = [];
  const sockets: Record<string, string> = {};
  shares.forEach((s, i) => {
    if (s.type !== 'virtiofs') return;
    const files = virtiofsFiles(dirs.runtime, dirs.logs, i);
    helpers.push(virtiofsdHelper(s.tag, { source: s.path, readOnly: s.readOnly, ...files }));
    sockets[s.tag] = files.socket;
  });
  return { helpers, sockets };
}
