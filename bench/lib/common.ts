import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { cpus, totalmem, release, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { run } from '../../electron/engine/util/proc.ts';
import { lineSplitter } from '../../electron/shared/lines.ts';

// What every benchmark shares: robust statistics, the machine description stamped on each
// result, log polling with an offset (serial logs append across boots), and child cleanup.

export const BENCH_DIR = resolve(import.meta.dirname, '..');
export const REPO = resolve(BENCH_DIR, '..');
export const RESULTS_DIR = resolve(BENCH_DIR, 'results');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  /** interquartile range (linear interpolation) */
  iqr: number;
  samples: number[];
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function spread(samples: number[], digits = 3): Spread {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    median: round(quantile(s, 0.5), digits),
    min: round(s[0] ?? NaN, digits),
    max: round(s[s.length - 1] ?? NaN, digits),
    iqr: round(quantile(s, 0.75) - quantile(s, 0.25), digits),
    samples: samples.map((x) => round(x, digits)),
  };
}

export function percentile(samples: number[], q: number): number {
  return quantile([...samples].sort((a, b) => a - b), q);
}

/** One line of the README table. */
export interface Row {
  figure: string;
  vireo: string;
  peer: string;
  /** Vireo ÷ peer (or the figure the goal is stated on); null when there is no peer figure */
  ratio: number | null;
  goal: string;
  met: boolean | null;
  /** for a missed goal (or a peer that could not run): what limits it */
  note?: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  kernel: string;
  qemu: string;
}

let machineCache: Machine | undefined;
export async function machine(): Promise<Machine> {
  if (machineCache) return machineCache;
  const qemu = await run('qemu-system-x86_64', ['--version']).then((r) => r.stdout.split('\n')[0]!.trim(), (e: Error) => `unavailable: ${e.message}`);
  machineCache = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, ramGiB: round(totalmem() / 1024 ** 3, 1), kernel: release(), qemu };
  return machineCache;
}

export interface AccelNote {
  chosen: string | null;
  reason: string | null;
}

export interface BenchResult {
  name: string;
  what: string;
  date: string;
  machine: Machine;
  accel: AccelNote;
  seconds: number;
  rows: Row[];
  /** peers that could not run here, with the reason */
  skipped: { peer: string; reason: string }[];
  data: Record<string, unknown>;
}

export async function writeResult(r: BenchResult): Promise<string> {
  const file = resolve(RESULTS_DIR, `${r.name}.json`);
  await mkdir(dirname(file), { recursive: true });
  // Other work on the machine shows here: these hosts are shared, and a ratio is only as good
  // as the quiet it was measured in.
  const withLoad = { ...r, loadAverageAtEnd: loadavg().map((x) => round(x, 2)) };
  await writeFile(file, `${JSON.stringify(withLoad, null, 2)}\n`);
  return file;
}

export function log(bench: string, msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)} ${bench}] ${msg}\n`);
}

export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * Polls a log until regex matches the text written after byte `from`; returns when it did
 * (performance.now()). 20 ms polls keep the sampling error small against multi-second boots.
 */
export async function waitForLog(file: string, regex: RegExp, timeoutMs: number, from = 0): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let tail = '';
  for (;;) {
    try {
      const fh = await open(file, 'r');
      try {
        const size = (await fh.stat()).size;
        if (size > from) {
          const buf = Buffer.alloc(size - from);
          await fh.read(buf, 0, buf.length, from);
          tail = buf.toString('latin1');
          if (regex.test(tail)) return performance.now();
        }
      } finally {
        await fh.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (performance.now() > deadline) throw new Error(`${file} did not show ${regex} within ${timeoutMs} ms; last output: ${tail.slice(-500)}`);
    await sleep(20);
  }
}

/** SIGKILLs a child and waits for it to be reaped. */
export function killChild(p: ChildProcess | null | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill(signal);
  return gone;
}

/** user+system CPU seconds of one process (Linux /proc), and its RSS in bytes. */
export async function procCpu(pid: number): Promise<{ cpuSec: number; rssBytes: number }> {
  const st = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is index 0, utime 11, stime 12, rss (pages) 21.
  const clk = 100;
  return { cpuSec: (Number(f[11]) + Number(f[12])) / clk, rssBytes: Number(f[21]) * 4096 };
}

/** Voluntary + involuntary context switches over all threads: a proxy for wake-ups. */
export async function procWakeups(pid: number): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let n = 0;
  for (const t of await readdir(`/proc/${pid}/task`)) {
    const s = await readFile(`/proc/${pid}/task/${t}/status`, 'utf8').catch(() => '');
    for (const m of s.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) n += Number(m[1]);
  }
  return n;
}

/**
 * A minimal QMP exchange the way a person scripting QEMU would do it: connect (retrying while
 * QEMU creates the socket), read the greeting, negotiate, run commands one at a time.
 */
export async function qmpCommands(socketPath: string, commands: string[], timeoutMs = 30_000): Promise<unknown[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<unknown[]>((resolveAll, reject) => {
        const sock = createConnection(socketPath);
        const queue = ['qmp_capabilities', ...commands];
        const results: unknown[] = [];
        let greeted = false;
        sock.setEncoding('utf8');
        sock.on('error', reject);
        const lines = lineSplitter((line) => {
          if (!line.trim()) return;
          const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string };
          if (msg.event) return;
          if (msg.QMP) greeted = true;
          else if (msg.error) return reject(new Error(`QMP error: ${msg.error.desc}`));
          else if ('return' in msg) results.push(msg.return);
          else return;
          if (!greeted) return;
          const next = queue.shift();
          if (next) sock.write(`${JSON.stringify({ execute: next })}\n`);
          else {
            sock.end();
            resolveAll(results.slice(1));
          }
        });
        sock.on('data', (chunk: string) => lines.push(chunk));
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline) throw e;
      await sleep(10);
    }
  }
}

/** Spawns a long-running child with argv only; stderr is kept for error messages. */
export function spawnChild(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; cwd?: string; detached?: boolean } = {},
): ChildProcess & { stderrText: () => string } {
  const p = spawn(cmd, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, uid: opts.uid, gid: opts.gid, cwd: opts.cwd, detached: opts.detached });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  p.stdout!.on('data', () => {});
  return Object.assign(p, { stderrText: () => err });
}
