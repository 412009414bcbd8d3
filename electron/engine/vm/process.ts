import { readFileSync, readdirSync, existsSync, readFile } from 'node:fs';
import { open, readFile as readFileP, rm, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { AccelName, CrashInfo } from '../../api/types.ts';
import { VireoError } from '../../api/errors.ts';
import type { VmPaths } from '../paths.ts';

// Facts about a QEMU process that may not be our child (a VM started by an engine that has
// since exited): is it alive, is it really that VM's QEMU, and the tail of its log.

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Guard against pid reuse: on Linux the process's argv must contain the VM's uuid (QEMU gets
 * `-uuid <id>`). Elsewhere we trust the pidfile plus a live QMP socket.
 */
export function isQemuOf(pid: number, vmId: string): boolean {
  if (!pidAlive(pid)) return false;
  if (process.platform !== 'linux') return true;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0').includes(vmId);
  } catch {
    return false;
  }
}

/** Linux: a zombie still answers kill(0); treat it as dead. */
export function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

export async function readPidFile(file: string): Promise<number | null> {
  try {
    const n = Number((await readFileP(file, 'utf8')).trim());
    return Number.isInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!pidAlive(pid) || isZombie(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !pidAlive(pid) || isZombie(pid);
}

/**
 * Ends a helper process that may not be our child: SIGTERM, up to graceMs for it to go, then
 * SIGKILL and as long again. True when it is gone. One home for the escalation every helper
 * (swtpm, virtiofsd, passt) needs when its VM stops.
 */
export async function terminate(pid: number, graceMs: number): Promise<boolean> {
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(pid, sig);
    } catch {
      return true; // gone already
    }
    if (await waitForExit(pid, graceMs)) return true;
  }
  return false;
}

/** The last lines of a log file, read from its end (logs can grow large). */
export async function tailFile(file: string, lines = 15, maxBytes = 16384): Promise<string> {
  try {
    const st = await stat(file);
    const start = Math.max(0, st.size - maxBytes);
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(st.size - start);
      await fh.read(buf, 0, buf.length, start);
      return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

/** What an engine records about a QEMU it started, so a later engine can re-attach to it. */
export interface RuntimeState {
  pid: number;
  startedAt: string;
  accel: AccelName;
  accelReason: string;
  argv: string[];
  binary: string;
}

export async function readRuntimeState(file: string): Promise<RuntimeState | null> {
  try {
    return JSON.parse(await readFileP(file, 'utf8')) as RuntimeState;
  } catch {
    return null;
  }
}

/** The line of QEMU's log that says why it stopped, without the binary's name. */
export function lastErrorLine(tail: string): string {
  const lines = tail.split('\n').filter((l) => l.trim() && !l.startsWith('---'));
  return lines.at(-1)?.replace(/^qemu-system-\w+: /, '') ?? 'no output';
}

/** The crash record of a QEMU that ended while no engine was watching it. */
export async function unwatchedExit(qemuLog: string): Promise<CrashInfo> {
  return { at: new Date().toISOString(), exitCode: null, signal: null, stderrTail: await tailFile(qemuLog), reason: 'QEMU exited while no Vireo engine was watching it' };
}

/**
 * A BLOCK_IO_ERROR that stops the guest (QEMU's default for write errors on a full host disk
 * is to pause rather than fail the guest's write), phrased for the person who must act.
 */
export function ioPauseReason(data: unknown): string | null {
  const d = (data ?? {}) as { device?: string; 'node-name'?: string; action?: string; nospace?: boolean; reason?: string };
  if (d.action !== 'stop') return null;
  const disk = d.device || d['node-name'] || 'a disk';
  return d.nospace
    ? `QEMU paused the guest: the host has no space left for disk ${disk}; free space on the host, then resume`
    : `QEMU paused the guest: disk ${disk} failed (${d.reason ?? 'I/O error'}); check the host disk, then resume`;
}

/**
 * A QEMU of this VM that has no pidfile yet: its engine died right after spawning it (only the
 * library's owner starts VMs, so nobody else is starting it now). QEMU writes its pidfile
 * early in start-up; wait for that, so the caller can attach to a QEMU that is really there.
 * Linux only (it reads /proc); elsewhere such a QEMU is found by the next attach.
 */
export async function pidOfUnrecordedQemu(pidFile: string, vmId: string, waitMs = 5000): Promise<number | null> {
  // Only a VM whose runtime folder exists can have a QEMU starting (Machine.start makes it
  // first); a stopped VM costs one stat here, not a walk through /proc.
  if (process.platform !== 'linux' || !existsSync(dirname(pidFile))) return null;
  const running = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).find((p) => isQemuOf(p, vmId) && !isZombie(p));
  if (!running) return null;
  const until = Date.now() + waitMs;
  while (Date.now() < until && pidAlive(running)) {
    const recorded = await readPidFile(pidFile);
    if (recorded) return recorded;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pidAlive(running) ? running : null;
}

export { existsSync, readFile };

/** SIGKILL a QEMU that is still there and wait (up to `ms`) until it is gone. */
export async function killAndWait(pid: number | null | undefined, ms: number): Promise<void> {
  if (!pid) return;
  if (pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  await waitForExit(pid, ms);
}

/** Rejects, with the reason from QEMU's log, when a starting QEMU exits (its start-up failed). */
export function startupExit(child: ChildProcess, qemuLog: string, argv: string[]): Promise<never> {
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', async (code, signal) => {
      const tail = await tailFile(qemuLog, 8);
      reject(new VireoError('QEMU_FAILED', `QEMU exited during start-up (${signal ?? `exit code ${code}`}): ${lastErrorLine(tail)}`, { exitCode: code, signal, stderr: tail, argv }));
    }),
  );
  exited.catch(() => {});
  return exited;
}

/** The crash record of a QEMU this engine watched end without being asked to. */
export async function crashOf(code: number | null, signal: NodeJS.Signals | null, qemuLog: string): Promise<CrashInfo> {
  const tail = await tailFile(qemuLog, 10);
  return {
    at: new Date().toISOString(),
    exitCode: code,
    signal,
    stderrTail: tail,
    reason: signal ? `QEMU was killed by ${signal}` : code !== null ? `QEMU exited with code ${code}` : 'QEMU exited unexpectedly',
  };
}

/** A VM's runtime files (pidfile, sockets, state); with `all` its runtime folder too. */
export async function removeRuntimeFiles(p: VmPaths, all = true): Promise<void> {
  const files = [p.pidFile, p.qmpSocket, p.qmpCmdSocket, p.vncSocket, p.serialSocket, p.stateFile];
  await Promise.all(files.map((f) => unlink(f).catch(() => {})));
  if (all) await rm(p.runtime, { recursive: true, force: true }).catch(() => {});
}
