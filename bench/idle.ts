import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { ensureFixtures, GUEST_MARKERS } from '../test/fixtures/guest.ts';
import { type BenchResult, type Row, REPO, killChild, log, machine, percentile, procCpu, procWakeups, round, sleep, spread, waitForLog, writeResult } from './lib/common.ts';

// Engine idle cost: `vireo serve` as a child with five running test guests (started through
// its WebSocket API), then 60 s of nothing: CPU time (utime+stime) and RSS of the serve
// process, and its wake-ups (context switches) as the polling-storm detector. Event-loop lag is
// measured from outside afterwards, in a separate 10 s window so the probe's own work does not
// count as idle CPU: a trivial `vms.list` every 100 ms, p99 of its round trip.

const BENCH = 'idle';

export class ApiSocket {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { code: string; message: string } };
      if (typeof msg.id !== 'number') return;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${msg.error.code}: ${msg.error.message}`));
      else p.resolve(msg.result);
    });
  }

  static open(url: string): Promise<ApiSocket> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url);
      ws.once('open', () => res(new ApiSocket(ws)));
      ws.once('error', rej);
    });
  }

  call<T = Record<string, unknown>>(method: string, args: object = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolveCall, reject) => {
      this.#pending.set(id, { resolve: resolveCall as (v: unknown) => void, reject });
      this.#ws.send(JSON.stringify({ id, method, args }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

export interface Serve {
  proc: ChildProcess;
  base: string;
  token: string;
  stop(): Promise<void>;
}

/** `vireo serve` as one Node process (node --import tsx, so the pid is the server itself). */
export async function startServe(home: string, media: string[] = []): Promise<Serve> {
  const token = randomBytes(16).toString('hex');
  // A client of serve is confined to the library and --media folders: the test guest's ISO lives in the fixture cache.
  const args = ['--import', 'tsx', resolve(REPO, 'electron/cli/main.ts'), '--home', home, 'serve', '--port', '0', '--token', token, ...media.flatMap((m) => ['--media', m])];
  const proc = spawn(process.execPath, args, {
    cwd: REPO,
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const base = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`vireo serve printed no URL within 60 s: ${err}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving at (http:\/\/[^/\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`vireo serve exited (${code}): ${err}`));
    });
  });
  return {
    proc,
    base,
    token,
    async stop() {
      await killChild(proc, 'SIGTERM');
    },
  };
}

export async function runIdleBench(opts: { seconds?: number } = {}): Promise<BenchResult> {
  const seconds = opts.seconds ?? Number(process.env.VIREO_BENCH_IDLE_SECONDS ?? 60);
  const t0 = performance.now();
  const fx = await ensureFixtures();
  const home = await mkdtemp(join(tmpdir(), 'vireo-bench-idle-'));
  const serve = await startServe(home, [dirname(fx.iso)]);
  const api = await ApiSocket.open(`${serve.base.replace('http', 'ws')}/api?token=${serve.token}`);
  const ids: string[] = [];
  let accel!: { chosen: string | null; reason: string | null };
  let data!: Record<string, unknown>;
  const rows: Row[] = [];
  try {
    log(BENCH, 'creating and starting 5 guests through the WebSocket API');
    for (let i = 1; i <= 5; i++) {
      const vm = await api.call<{ id: string }>('vms.create', { name: `idle-${i}`, iso: fx.iso, memory: '160M', disk: '32M', cpus: 1, firmware: 'bios' });
      ids.push(vm.id);
    }
    const started = await Promise.all(ids.map((id) => api.call<{ paths: { serialLog: string }; runtime: { accel: string; accelReason: string } }>('vms.start', { vm: id })));
    accel = { chosen: started[0]!.runtime.accel, reason: started[0]!.runtime.accelReason };
    await Promise.all(started.map((d) => waitForLog(d.paths.serialLog, GUEST_MARKERS.ready, 300_000)));
    await sleep(3000);

    const pid = serve.proc.pid!;
    log(BENCH, `measuring ${seconds} s of idle with 5 running guests`);
    const a = await procCpu(pid);
    const w0 = await procWakeups(pid);
    const rss: number[] = [];
    const tStart = performance.now();
    for (let s = 0; s < seconds; s += 5) {
      await sleep(5000);
      rss.push((await procCpu(pid)).rssBytes / 1024 ** 2);
    }
    const elapsed = (performance.now() - tStart) / 1000;
    const b = await procCpu(pid);
    const w1 = await procWakeups(pid);
    const cpuPct = ((b.cpuSec - a.cpuSec) / elapsed) * 100;
    const wakeupsPerSec = (w1 - w0) / elapsed;

    log(BENCH, 'event-loop lag probe: vms.list every 100 ms for 10 s');
    const lat: number[] = [];
    const probeEnd = performance.now() + 10_000;
    while (performance.now() < probeEnd) {
      const t = performance.now();
      await api.call('vms.list');
      lat.push(performance.now() - t);
      await sleep(Math.max(0, 100 - (performance.now() - t)));
    }
    const p99 = round(percentile(lat, 0.99), 2);
    const rssS = spread(rss, 1);
    data = {
      seconds: round(elapsed, 1),
      cpuSeconds: round(b.cpuSec - a.cpuSec, 2),
      cpuPercentOfOneCore: round(cpuPct, 3),
      wakeupsPerSecond: round(wakeupsPerSec, 1),
      contextSwitchesTotalAtEnd: w1,
      rssMiB: rssS,
      listLatencyMs: { p50: round(percentile(lat, 0.5), 2), p99, max: round(Math.max(...lat), 2), n: lat.length },
      lagMethod: 'from outside: round trip of vms.list over the WebSocket API every 100 ms for 10 s after the idle window (includes JSON, zod parsing and the socket, so it is an upper bound on event-loop lag)',
    };
    rows.push({
      figure: 'serve CPU, 5 running VMs, idle (% of one core)',
      vireo: `${round(cpuPct, 3)} % (${round(b.cpuSec - a.cpuSec, 2)} s in ${round(elapsed)} s)`,
      peer: '—',
      ratio: round(cpuPct, 3),
      goal: '< 1 % of one core',
      met: cpuPct < 1,
      ...(cpuPct >= 1 ? { note: 'see wakeups/s: periodic work in the engine or server while nothing happens' } : {}),
    });
    rows.push({
      figure: 'serve wake-ups/s (context switches), idle',
      vireo: String(round(wakeupsPerSec, 1)),
      peer: '—',
      ratio: null,
      goal: 'no polling storm (< 50/s)',
      met: wakeupsPerSec < 50,
      ...(wakeupsPerSec >= 50 ? { note: 'something polls: timers or file watchers firing while idle' } : {}),
    });
    rows.push({ figure: 'serve RSS, 5 running VMs (MiB)', vireo: `${rssS.median} (${rssS.min}–${rssS.max})`, peer: '—', ratio: null, goal: 'informational', met: null });
    rows.push({
      figure: 'event-loop lag p99 (vms.list round trip, ms)',
      vireo: `p99 ${p99}, p50 ${round(percentile(lat, 0.5), 2)}`,
      peer: '—',
      ratio: null,
      goal: 'informational (< 50 ms)',
      met: null,
    });
  } finally {
    await Promise.all(ids.map((id) => api.call('vms.stop', { vm: id, force: true }).catch(() => {})));
    api.close();
    await serve.stop();
    await rm(home, { recursive: true, force: true });
  }
  const result: BenchResult = {
    name: BENCH,
    what: `vireo serve with 5 running test guests (started through its WebSocket API), ${seconds} s idle: CPU time, RSS and wake-ups of the serve process; then vms.list round-trip p99`,
    date: new Date().toISOString(),
    machine: await machine(),
    accel,
    seconds: round((performance.now() - t0) / 1000, 1),
    rows,
    skipped: [],
    data,
  };
  await writeResult(result);
  return result;
}
