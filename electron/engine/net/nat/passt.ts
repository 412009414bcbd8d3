import { existsSync } from 'node:fs';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VireoError } from '../../../api/errors.ts';
import type { PortForward } from '../../../api/schemas/vm-config.ts';
import { cleanEnv, spawnDetached, tail } from '../../util/proc.ts';
import type { HelperProcess } from '../../vm/helpers.ts';
import { pidAlive, terminate } from '../../vm/process.ts';
import { natFiles, passtAvailability, PASST_INSTALL_HINT } from './plan.ts';
import { assertPortFree, inodesFor, processOfInodes } from './port-holder.ts';

// passt as a NAT card's helper process, behind Vireo's passt keeper
// (resources/net/passt-relay.mjs, whose header gives the measurements behind this shape). Before
// QEMU starts, the engine starts the keeper, detached with its output in the VM's log folder so
// it outlives this engine like QEMU does; it listens on the card's socket. QEMU connects to it as
// the stream netdev's client (network-nat.ts), and the keeper hands that connection to
// `passt -f -F 3`: frames go straight between QEMU and passt. The engine writes the keeper's
// pidfile into the runtime folder: a later engine stops it (VM gone) or has it replace passt
// (forwards changed) from that file alone. passt 2023-03 cannot change forwards at run time; a
// change writes the new argv (PIDFILE.args) and sends the keeper SIGHUP, which starts a new passt
// on the same connection (QEMU sees no change). Connections open through the card drop then:
// passt holds them, and it is replaced.

export interface PasstOptions {
  runtimeDir: string;
  nicId: string;
  logFile: string;
  /** the card's forwards at the time passt starts (read from vm.json by the caller) */
  forwards: () => readonly PortForward[];
  /** QEMU's pidfile: the keeper leaves when that QEMU is gone */
  qemuPidFile: string;
  binary?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** passt's -t/-u options for the forwards: "-t 127.0.0.1/8080:80". */
export function passtForwardArgs(forwards: readonly PortForward[]): string[] {
  return forwards.flatMap((f) => [f.protocol === 'tcp' ? '-t' : '-u', `${f.hostAddress}/${f.hostPort}:${f.guestPort}`]);
}

const here = dirname(fileURLToPath(import.meta.url));

/** The relay program: in the packaged app's resources, else the source tree's (as the switch's). */
export function relayScript(): string {
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = [
    ...(resources ? [join(resources, 'resources', 'net', 'passt-relay.mjs')] : []),
    join(here, '..', '..', '..', '..', 'resources', 'net', 'passt-relay.mjs'),
    // the bundled CLI: .vite/build/cli.mjs in a checkout
    join(here, '..', '..', 'resources', 'net', 'passt-relay.mjs'),
    join(process.cwd(), 'resources', 'net', 'passt-relay.mjs'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new VireoError('INTERNAL', `Vireo's passt relay is missing (looked in ${candidates.join(', ')}): reinstall Vireo`);
  return found;
}

/** The pid in the card's pidfile when that process is alive and is the passt keeper (or, left by an older Vireo, passt). */
export async function findPasst(runtimeDir: string, nicId: string): Promise<number | null> {
  const text = await readFile(natFiles(runtimeDir, nicId).pidFile, 'utf8').catch(() => null);
  const pid = text === null ? NaN : Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return null;
  // A stale pidfile may name a pid the OS has since reused; never signal a stranger.
  if (process.platform === 'linux') {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!/(^|\/)passt[^/]*$/.test(argv[0] ?? '') && !argv.some((a) => a.endsWith('passt-relay.mjs'))) return null;
  }
  return pid;
}

/** The passt the keeper with this pid runs (its pid file, checked to be the keeper's child). */
async function passtOf(relayPid: number, pidFile: string): Promise<number | null> {
  const pid = Number.parseInt((await readFile(`${pidFile}.passt`, 'utf8').catch(() => '')).trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (process.platform !== 'linux') return pid;
  // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return ppid === relayPid ? pid : null;
}

/** Stops the card's passt (SIGTERM, then SIGKILL) and removes its pidfile; idempotent. */
export async function stopPasst(runtimeDir: string, nicId: string, graceMs = 2000): Promise<void> {
  const pid = await findPasst(runtimeDir, nicId);
  const { pidFile } = natFiles(runtimeDir, nicId);
  const passt = pid === null ? null : await passtOf(pid, pidFile);
  if (pid !== null) await terminate(pid, graceMs);
  // The relay stops its passt on SIGTERM; a relay killed before it could leaves passt behind,
  // and Debian 12's passt does not always leave when its socket's peer is gone.
  if (passt !== null && pidAlive(passt)) await terminate(passt, graceMs);
  for (const f of [pidFile, `${pidFile}.passt`, `${pidFile}.exit`, `${pidFile}.args`]) await rm(f, { force: true });
}

/** Every forward's host port is bound by this passt (it binds them all before it serves). */
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

/** passt's argv for the keeper: -f: no fork, so the keeper's child is passt itself; -q: warnings and errors only; fd 3: QEMU's connection. */
async function writePasstArgs(opts: PasstOptions, forwards: readonly PortForward[]): Promise<string[]> {
  const args = ['-f', '-q', '-F', '3', ...passtForwardArgs(forwards)];
  const { pidFile } = natFiles(opts.runtimeDir, opts.nicId);
  await writeFile(`${pidFile}.args`, JSON.stringify({ binary: opts.binary ?? 'passt', args }), { mode: 0o600 });
  return args;
}

/** Starts the card's keeper with `forwards`; resolves once it listens on the card's socket (QEMU may connect). */
export async function launchKeeper(opts: PasstOptions, forwards: readonly PortForward[], timeoutMs = 10_000): Promise<number> {
  const binary = opts.binary ?? 'passt';
  const { socket, pidFile } = natFiles(opts.runtimeDir, opts.nicId);
  const passtArgs = await writePasstArgs(opts, forwards);
  await rm(`${pidFile}.exit`, { force: true });
  const log = await open(opts.logFile, 'a', 0o600);
  let started;
  try {
    await log.write(`--- ${new Date().toISOString()} ${binary} ${passtArgs.join(' ')}\n`);
    // process.execPath is Node under the CLI and serve, Electron in the app: there it runs as Node.
    const args = [relayScript(), socket, pidFile, opts.qemuPidFile];
    started = await spawnDetached(process.execPath, args, { env: { ...cleanEnv(), ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', log.fd, log.fd] });
  } finally {
    await log.close();
  }
  const pid = started.pid;
  await writeFile(pidFile, `${pid}\n`, { mode: 0o600 });
  let exit: string | null = null;
  started.child.once('exit', (code, signal) => (exit = signal ? `killed by ${signal}` : `exit code ${code}`));
  started.spawnFailed.catch(() => {});
  started.child.unref();
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(socket)) {
    if (exit !== null || Date.now() > deadline) {
      await stopPasst(opts.runtimeDir, opts.nicId);
      const text = await readFile(opts.logFile, 'utf8').catch(() => '');
      throw new VireoError('TOOL_FAILED', `Vireo's passt keeper for NIC ${opts.nicId} did not listen on ${socket} (${exit ?? `not within ${timeoutMs} ms`}): ${tail(text, 2)}; see ${opts.logFile}`);
    }
    await sleep(20);
  }
  return pid;
}

/**
 * Waits until the keeper runs a passt other than `before` that has bound every forward;
 * throws with passt's own words when it exits.
 */
async function waitForPasst(opts: PasstOptions, forwards: readonly PortForward[], before: number | null, timeoutMs = 10_000): Promise<number> {
  const binary = opts.binary ?? 'passt';
  const { pidFile } = natFiles(opts.runtimeDir, opts.nicId);
  const argv = [binary, '-f', '-q', '-F', '3', ...passtForwardArgs(forwards)];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const keeper = await findPasst(opts.runtimeDir, opts.nicId);
    const exit = await readFile(`${pidFile}.exit`, 'utf8').catch(() => null);
    if (exit !== null || keeper === null) {
      const text = (await readFile(opts.logFile, 'utf8').catch(() => '')).split('\n').filter((l) => !l.startsWith('Failed to send')).join('\n');
      if (exit && /ENOENT/.test(exit)) throw new VireoError('UNSUPPORTED', `passt is not installed (this VM's NAT card ${opts.nicId} uses it): ${PASST_INSTALL_HINT}; or set the card's NAT backend to slirp`);
      throw new VireoError('TOOL_FAILED', `passt for NIC ${opts.nicId} exited (${exit?.trim() ?? 'its keeper is gone'}): ${tail(text, 2)}; see ${opts.logFile}`, { argv });
    }
    const passt = await passtOf(keeper, pidFile);
    if (passt !== null && passt !== before && (await portsBoundBy(passt, forwards))) {
      if (forwards.length) return passt;
      // Without forwards there is nothing to wait for; a passt that dies at once still says why.
      await sleep(100);
      if (!existsSync(`${pidFile}.exit`)) return passt;
    }
    if (Date.now() > deadline) {
      throw new VireoError('TIMEOUT', `passt for NIC ${opts.nicId} did not start and bind its forwarded ports within ${timeoutMs} ms (did QEMU connect to ${natFiles(opts.runtimeDir, opts.nicId).socket}?); see ${opts.logFile}`, { argv });
    }
    await sleep(25);
  }
}

/** Has the card's keeper replace its passt with one carrying `forwards`; on failure the old list is restored. */
export async function replacePasst(opts: PasstOptions, forwards: readonly PortForward[], previous: readonly PortForward[], attached: () => Promise<void>): Promise<void> {
  const { pidFile } = natFiles(opts.runtimeDir, opts.nicId);
  const keeper = await findPasst(opts.runtimeDir, opts.nicId);
  if (keeper === null) throw new VireoError('INVALID_STATE', `passt for NIC ${opts.nicId} is not running (see ${opts.logFile}): restart the VM to bring the card back`);
  const swap = async (list: readonly PortForward[]) => {
    const before = await passtOf(keeper, pidFile);
    await writePasstArgs(opts, list);
    process.kill(keeper, 'SIGHUP');
    await waitForPasst(opts, list, before);
  };
  try {
    await swap(forwards);
  } catch (e) {
    await swap(previous).then(attached).catch(() => {});
    throw e;
  }
  await attached();
}

/**
 * One NAT card's passt as a VM helper: start() checks (passt there, its ports free) and starts
 * the keeper before QEMU starts; attach() waits for the passt it runs once QEMU has connected;
 * stop() works from the pidfile.
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
      await launchKeeper(opts, opts.forwards());
    },
    attach: async () => void (await waitForPasst(opts, opts.forwards(), null)),
    stop: () => stopPasst(opts.runtimeDir, opts.nicId),
  };
}
