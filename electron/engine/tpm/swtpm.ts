import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { run, spawnDetached, tail } from '../util/proc.ts';
import type { HelperProcess } from '../vm/helpers.ts';
import { SWTPM_FILES } from '../paths.ts';
import { pidAlive, terminate } from '../vm/process.ts';

// A software TPM 2.0 for a VM, provided by swtpm. It runs detached like QEMU, so a VM keeps
// its TPM when the app quits; its pidfile in the runtime dir lets a later engine stop it.
// With --terminate it exits by itself once QEMU closes the control connection.

export const SWTPM_INSTALL_HINT =
  'install it: Debian/Ubuntu `sudo apt install swtpm swtpm-tools`, Fedora `sudo dnf install swtpm`, macOS `brew install swtpm`';

export interface SwtpmOptions {
  /** persistent TPM state, inside the VM folder (holds the TPM's secrets) */
  stateDir: string;
  /** short runtime dir: the control socket and pidfile go here */
  runtimeDir: string;
  logFile: string;
  /** swtpm executable; PATH lookup by default */
  binary?: string;
  /** how long to wait for the control socket; swtpm normally needs well under a second */
  timeoutMs?: number;
}

export interface SwtpmHandle {
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

export const swtpmPaths = (runtimeDir: string) => ({
  socket: join(runtimeDir, SWTPM_FILES.socket),
  pidFile: join(runtimeDir, SWTPM_FILES.pidFile),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const alive = pidAlive;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The TPM state already holds a TPM 2.0 (swtpm creates it on the first TPM2_Startup). */
export async function hasTpmState(stateDir: string): Promise<boolean> {
  return exists(join(stateDir, 'tpm2-00.permall'));
}

/** Fails with UNSUPPORTED and the install hint when swtpm cannot be run. */
export async function checkSwtpm(binary = 'swtpm'): Promise<string> {
  if (process.platform === 'win32') {
    throw new VireoError('UNSUPPORTED', 'a virtual TPM needs swtpm, which does not run on Windows hosts: turn the TPM off for this VM', {});
  }
  try {
    const r = await run(binary, ['--version'], { timeoutMs: 10_000 });
    return (r.stdout || r.stderr).trim();
  } catch (e) {
    const err = e as VireoError;
    const missing = (err.details as { errno?: string } | undefined)?.errno === 'ENOENT';
    if (missing) throw new VireoError('UNSUPPORTED', `swtpm is not installed (needed for this VM's TPM): ${SWTPM_INSTALL_HINT}`, { binary });
    throw err;
  }
}

export async function startSwtpm(opts: SwtpmOptions): Promise<SwtpmHandle> {
  const binary = opts.binary ?? 'swtpm';
  const { socket, pidFile } = swtpmPaths(opts.runtimeDir);
  // swtpm's option parser has no escape for commas, so those paths must not contain one.
  // The state dir is passed as "." (cwd), which lets it live in any VM folder name.
  if (socket.includes(',') || pidFile.includes(',')) {
    throw new VireoError('INVALID_ARGUMENT', `swtpm cannot use a runtime folder whose path contains a comma: ${opts.runtimeDir}; set a runtime dir without commas`, { runtimeDir: opts.runtimeDir });
  }
  await checkSwtpm(binary);
  await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
  await mkdir(opts.runtimeDir, { recursive: true, mode: 0o700 });
  // A leftover swtpm for this runtime dir (its QEMU never connected) would hold the socket.
  await stopSwtpm(opts.runtimeDir);
  await rm(socket, { force: true });

  const log = await open(opts.logFile, 'a', 0o600);
  const args = [
    'socket',
    '--tpm2',
    '--tpmstate', 'dir=.,mode=0600',
    '--ctrl', `type=unixio,path=${socket},mode=0600`,
    '--terminate',
    '--pid', `file=${pidFile}`,
    '--log', 'fd=3,level=1',
  ];
  let started;
  try {
    started = await spawnDetached(binary, args, { cwd: opts.stateDir, stdio: ['ignore', 'ignore', log.fd, log.fd] });
  } finally {
    // The child has its own copy of the descriptor once spawned.
    await log.close();
  }
  const { child } = started;
  let exitInfo: string | null = null;
  let spawnError: Error | null = null;
  child.on('exit', (code, signal) => {
    exitInfo = signal ? `killed by ${signal}` : `exit code ${code}`;
  });
  started.spawnFailed.catch((e: Error) => {
    spawnError = e;
  });

  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (spawnError) {
      throw new VireoError('TOOL_FAILED', `could not start swtpm: ${(spawnError as Error).message}`, { argv: [binary, ...args] });
    }
    if (exitInfo !== null) {
      const logText = await readFile(opts.logFile, 'utf8').catch(() => '');
      throw new VireoError('TOOL_FAILED', `swtpm exited while starting (${exitInfo}): ${tail(logText, 3) || 'no log output'}; see ${opts.logFile}`, {
        argv: [binary, ...args],
        log: tail(logText),
      });
    }
    if (await exists(socket)) break;
    if (Date.now() > deadline) {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      throw new VireoError('TIMEOUT', `swtpm did not create its control socket ${socket} within ${opts.timeoutMs ?? 10_000} ms; see ${opts.logFile}`, { argv: [binary, ...args] });
    }
    await sleep(20);
  }
  const pid = child.pid!;
  return { socket, pid, stop: () => stopSwtpm(opts.runtimeDir) };
}

/**
 * swtpm as one of a VM's helper processes. It is found again by the pidfile in the runtime
 * dir, so an engine that did not start it can still stop it after its QEMU has gone.
 */
export function swtpmHelper(opts: SwtpmOptions): HelperProcess & { readonly socket: string } {
  return {
    name: 'swtpm',
    socket: swtpmPaths(opts.runtimeDir).socket,
    start: async () => void (await startSwtpm(opts)),
    stop: () => stopSwtpm(opts.runtimeDir),
  };
}

/** The pid from the runtime dir's pidfile when that process is alive and is swtpm. */
export async function findSwtpm(runtimeDir: string): Promise<number | null> {
  const { pidFile } = swtpmPaths(runtimeDir);
  const text = await readFile(pidFile, 'utf8').catch(() => null);
  const pid = text === null ? NaN : Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  // A stale pidfile may name a pid the OS has since reused; never signal a stranger.
  if (process.platform === 'linux') {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').some((a) => a.endsWith('swtpm'))) return null;
  }
  return pid;
}

/** Stops the swtpm of a runtime dir (SIGTERM, then SIGKILL) and removes its files. */
export async function stopSwtpm(runtimeDir: string, graceMs = 3000): Promise<void> {
  const { socket, pidFile } = swtpmPaths(runtimeDir);
  const pid = await findSwtpm(runtimeDir);
  if (pid !== null) await terminate(pid, graceMs);
  await rm(socket, { force: true });
  await rm(pidFile, { force: true });
}
