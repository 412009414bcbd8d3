import { connect, type Socket } from 'node:net';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { VireoError } from '../../../api/errors.ts';
import type { PortForward } from '../../../api/schemas/vm-config.ts';
import { spawnDetached, tail } from '../../util/proc.ts';
import type { HelperProcess } from '../../vm/helpers.ts';
import { pidAlive, terminate } from '../../vm/process.ts';
import { natFiles, passtAvailability, PASST_INSTALL_HINT } from './plan.ts';
import { assertPortFree, inodesFor, processOfInodes } from './port-holder.ts';

// passt as a NAT card's helper process. QEMU serves the card's stream socket (network-nat.ts);
// once QEMU is up (paused, before the guest runs) the engine connects to it and hands that
// connection to `passt -f -F 3`, spawned detached with its output in the VM's log folder, so
// it outlives this engine like QEMU does. The engine writes its pidfile into the runtime folder:
// a later engine stops it (VM gone) or replaces it (forwards changed) from that file alone.
// passt 2023-03 cannot change forwards at run time; a change starts a new passt with the new
// list on a new connection (QEMU 7.2's stream server accepts the next client when the old one
// goes). Connections open through the card drop then: passt holds them, and it is replaced.

export interface PasstOptions {
  runtimeDir: string;
  nicId: string;
  logFile: string;
  /** the card's forwards at the time passt starts (read from vm.json by the caller) */
  forwards: () => readonly PortForward[];
  binary?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** passt's -t/-u options for the forwards: "-t 127.0.0.1/8080:80". */
export function passtForwardArgs(forwards: readonly PortForward[]): string[] {
  return forwards.flatMap((f) => [f.protocol === 'tcp' ? '-t' : '-u', `${f.hostAddress}/${f.hostPort}:${f.guestPort}`]);
}

/** The pid in the card's pidfile when that process is alive and is passt. */
export async function findPasst(runtimeDir: string, nicId: string): Promise<number | null> {
  const text = await readFile(natFiles(runtimeDir, nicId).pidFile, 'utf8').catch(() => null);
  const pid = text === null ? NaN : Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return null;
  // A stale pidfile may name a pid the OS has since reused; never signal a stranger.
  if (process.platform === 'linux') {
    const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0] ?? '';
    if (!/(^|\/)passt[^/]*$/.test(argv0)) return null;
  }
  return pid;
}

/** Stops the card's passt (SIGTERM, then SIGKILL) and removes its pidfile; idempotent. */
export async function stopPasst(runtimeDir: string, nicId: string, graceMs = 2000): Promise<void> {
  const pid = await findPasst(runtimeDir, nicId);
  if (pid !== null) await terminate(pid, graceMs);
  await rm(natFiles(runtimeDir, nicId).pidFile, { force: true });
}

function connectWithin(path: string, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', (e: NodeJS.ErrnoException) => {
        s.destroy();
        if (Date.now() > deadline) reject(new VireoError('TIMEOUT', `QEMU's network socket ${path} did not accept passt within ${timeoutMs} ms: ${e.message}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Every forward's host port is bound by this pid (passt binds them all before it serves). */
async function portsBoundBy(pid: number, forwards: readonly PortForward[]): Promise<boolean> {
  for (const f of forwards) {
    const inodes = await inodesFor(f.protocol, f.hostAddress, f.hostPort);
    if (!inodes.length) return false;
    // The port was free before passt started; a holder we may not see (fds unreadable) is passt.
    const holder = await processOfInodes(inodes);
    if (holder && holder.pid !== pid) return false;
  }
  return true;
}

/**
 * Starts passt on a new connection to QEMU's stream socket for the card, with these forwards.
 * Resolves once passt has bound every forward; throws with passt's own words when it exits.
 */
export async function launchPasst(opts: PasstOptions, forwards: readonly PortForward[], timeoutMs = 10_000): Promise<number> {
  const binary = opts.binary ?? 'passt';
  const { socket, pidFile } = natFiles(opts.runtimeDir, opts.nicId);
  const conn = await connectWithin(socket, timeoutMs);
  const log = await open(opts.logFile, 'a', 0o600);
  // -f: stay in the foreground (no fork), so the pid we spawn is passt's and goes in the pidfile.
  // -q: only warnings and errors in the log. fd 3 is the connection to QEMU.
  const args = ['-f', '-q', '-F', '3', ...passtForwardArgs(forwards)];
  let started;
  try {
    await log.write(`--- ${new Date().toISOString()} ${binary} ${args.join(' ')}\n`);
    started = await spawnDetached(binary, args, { stdio: ['ignore', log.fd, log.fd, conn] });
  } catch (e) {
    const missing = ((e as VireoError).details as { errno?: string } | undefined)?.errno === 'ENOENT';
    throw missing ? new VireoError('UNSUPPORTED', `passt is not installed (this VM's NAT card ${opts.nicId} uses it): ${PASST_INSTALL_HINT}; or set the card's NAT backend to slirp`) : e;
  } finally {
    // passt has its own copy of both now.
    conn.destroy();
    await log.close();
  }
  const pid = started.pid;
  await writeFile(pidFile, `${pid}\n`, { mode: 0o600 });
  let exit: string | null = null;
  started.child.once('exit', (code, signal) => (exit = signal ? `killed by ${signal}` : `exit code ${code}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exit !== null) {
      await rm(pidFile, { force: true });
      const text = await readFile(opts.logFile, 'utf8').catch(() => '');
      throw new VireoError('TOOL_FAILED', `passt for NIC ${opts.nicId} exited while starting (${exit}): ${tail(text.split('\n').filter((l) => !l.startsWith('Failed to send')).join('\n'), 2)}; see ${opts.logFile}`, { argv: [binary, ...args] });
    }
    if (await portsBoundBy(pid, forwards)) break;
    if (Date.now() > deadline) {
      await stopPasst(opts.runtimeDir, opts.nicId);
      throw new VireoError('TIMEOUT', `passt for NIC ${opts.nicId} did not bind its forwarded ports within ${timeoutMs} ms; see ${opts.logFile}`, { argv: [binary, ...args] });
    }
    await sleep(25);
  }
  // Without forwards there is nothing to wait for; a passt that dies at once still says why.
  if (!forwards.length) await sleep(100);
  if (exit !== null) throw new VireoError('TOOL_FAILED', `passt for NIC ${opts.nicId} exited at once (${exit}); see ${opts.logFile}`);
  return pid;
}

/** Replaces the card's running passt with one carrying `forwards`; on failure the old list is restored. */
export async function replacePasst(opts: PasstOptions, forwards: readonly PortForward[], previous: readonly PortForward[], attached: () => Promise<void>): Promise<void> {
  await stopPasst(opts.runtimeDir, opts.nicId);
  try {
    await launchPasst(opts, forwards);
  } catch (e) {
    await launchPasst(opts, previous).then(attached).catch(() => {});
    throw e;
  }
  await attached();
}

/**
 * One NAT card's passt as a VM helper: start() checks (passt there, its ports free) before QEMU
 * starts; attach() runs it once QEMU serves the card's socket; stop() works from the pidfile.
 */
export function passtHelper(opts: PasstOptions): HelperProcess {
  return {
    name: `passt (${opts.nicId})`,
    start: async () => {
      const passt = await passtAvailability(false, opts.binary);
      if (!passt.available) throw new VireoError('UNSUPPORTED', `NIC ${opts.nicId} needs passt: ${passt.reason}`);
      await stopPasst(opts.runtimeDir, opts.nicId); // one a dead engine's VM left behind
      for (const f of opts.forwards()) await assertPortFree(f);
      await rm(natFiles(opts.runtimeDir, opts.nicId).socket, { force: true });
    },
    attach: async () => void (await launchPasst(opts, opts.forwards())),
    stop: () => stopPasst(opts.runtimeDir, opts.nicId),
  };
}
