import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ENCODING_RAW, RfbClient } from '../test/fixtures/rfb-client.ts';
import { keyEchoBootSector, measureKeyLatency } from './display-keys.ts';

// Display throughput: full (non-incremental) framebuffer updates per second, Raw encoding, one
// request in flight, through three paths to the same QEMU VNC socket:
//   bridge     our DisplayBridge (in its own process), WebSocket → unix socket
//   websockify Debian's websockify --unix-target, the usual peer in front of noVNC
//   direct     the unix socket itself, the ceiling neither proxy can beat
// Raw keeps QEMU's encoding work small so that the proxies, not the encoder, dominate. The
// guest is a boot sector that repaints the text screen continuously (see busyScreenBootSector).

export interface DisplayBenchOptions {
  seconds?: number;
  runs?: number;
  out?: string | null;
}

type PathName = 'bridge' | 'websockify' | 'direct';

interface RunResult {
  frames: number;
  bytes: number;
  seconds: number;
  fps: number;
  mbPerSec: number;
  /** CPU seconds the proxy process (and its reaped children) spent per 100 MB carried */
  proxyCpuSecPer100MB: number | null;
  /** request sent → whole frame received, median over the run */
  frameMsMedian: number;
}

const CLK_TCK = 100;

/**
 * CPU seconds of a process tree (Linux /proc): the on-CPU time of every thread of the process
 * and of its live descendants (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds: the 10 ms
 * ticks of utime/stime are too coarse for the ~0.1 s a run costs a proxy), plus what its
 * reaped children used (cutime+cstime, ticks). websockify serves each connection in a forked
 * child, so the parent alone would miss most of its work; the child lives as long as the
 * connection, and both readings are taken while it is open.
 */
async function cpuSeconds(pid: number | undefined): Promise<number | null> {
  if (!pid) return null;
  const ppids = new Map<number, number>();
  let reapedTicks: number | null = null;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    // Fields after the parenthesised command name: ppid is index 1, cutime+cstime 13..14.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ppids.set(Number(name), Number(f[1]));
    if (Number(name) === pid) reapedTicks = Number(f[13]) + Number(f[14]);
  }
  if (reapedTicks === null) return null;
  const tree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of ppids) {
      if (!tree.has(p) && tree.has(pp)) {
        tree.add(p);
        grew = true;
      }
    }
  }
  let ns = 0;
  for (const p of tree) {
    const tasks = await readdir(`/proc/${p}/task`).catch(() => [] as string[]);
    for (const t of tasks) {
      const line = await readFile(`/proc/${p}/task/${t}/schedstat`, 'utf8').catch(() => null);
      if (line) ns += Number(line.split(' ')[0]);
    }
  }
  return ns / 1e9 + reapedTicks / CLK_TCK;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 2) => Number(x.toFixed(d));

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function measure(connect: () => Promise<RfbClient>, seconds: number, proxyPid?: number): Promise<RunResult> {
  const rfb = await connect();
  const init = await rfb.handshake();
  rfb.setEncodings([ENCODING_RAW]);
  // One warm-up frame so connection set-up is not measured.
  rfb.requestUpdate(false);
  await rfb.readUpdate();
  const bytes0 = rfb.bytesReceived;
  const cpu0 = await cpuSeconds(proxyPid);
  const t0 = performance.now();
  let frames = 0;
  const lat: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    const a = performance.now();
    rfb.requestUpdate(false, { x: 0, y: 0, w: init.width, h: init.height });
    await rfb.readUpdate();
    lat.push(performance.now() - a);
    frames++;
  }
  const took = (performance.now() - t0) / 1000;
  const bytes = rfb.bytesReceived - bytes0;
  // Read before closing: websockify's per-connection child is still alive and counted.
  const cpu1 = await cpuSeconds(proxyPid);
  rfb.close();
  const cpu = cpu0 !== null && cpu1 !== null ? round(((cpu1 - cpu0) / bytes) * 1e8, 3) : null;
  return { frames, bytes, seconds: round(took, 3), fps: round(frames / took), mbPerSec: round(bytes / took / 1e6), proxyCpuSecPer100MB: cpu, frameMsMedian: round(median(lat), 1) };
}

/**
 * A 64 KiB disk whose boot sector repaints all 80x25 text cells 200 times a second (PIT
 * reprogrammed, `hlt` between frames). QEMU's VNC server slows its refresh timer towards 3 s
 * while a screen is idle, so an idle guest would measure QEMU's back-off, not the proxies; a
 * screen that is always dirty keeps it at its 30 ms base. `hlt` keeps the vCPU nearly idle.
 */
function busyScreenBootSector(): Buffer {
  const code = Buffer.from(
    [
      'fa', // cli
      'b036 e643', // PIT channel 0, mode 3
      'b04e e640 b017 e640', // divisor 0x174e: ~200 Hz
      'b800b8 8ec0', // es = 0xb800 (text mode memory)
      '31db', // bx = 0 (frame counter)
      '31ff b9d007 89d8 f3ab', // loop: fill 2000 cells with bx (char + attribute)
      '43 fb f4', // bx++, sti, hlt until the next timer tick
      'ebf2', // jmp loop
    ]
      .join('')
      .replace(/ /g, ''),
    'hex',
  );
  const img = Buffer.alloc(64 * 1024);
  code.copy(img, 0);
  img[510] = 0x55;
  img[511] = 0xaa;
  return img;
}

function stop(p: ChildProcess | null): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGKILL');
  return gone;
}

export async function runDisplayBench(opts: DisplayBenchOptions = {}): Promise<object> {
  const seconds = opts.seconds ?? Number(process.env.VIREO_BENCH_SECONDS ?? 5);
  const runs = opts.runs ?? Number(process.env.VIREO_BENCH_RUNS ?? 5);
  const dir = await mkdtemp('/tmp/vireo-bench-');
  let qemu: ChildProcess | null = null;
  let websockify: ChildProcess | null = null;
  let keyQemu: ChildProcess | null = null;
  let keyWebsockify: ChildProcess | null = null;
  let host: ChildProcess | null = null;
  const startQemu = async (name: string, img: Buffer): Promise<{ proc: ChildProcess; sock: string }> => {
    const bootImg = join(dir, `${name}.img`);
    const sock = join(dir, `${name}.sock`);
    await writeFile(bootImg, img);
    const proc = spawn(
      'qemu-system-x86_64',
      ['-accel', 'tcg', '-nodefaults', '-display', 'none', '-vga', 'std', '-m', '64', '-drive', `file=${bootImg},format=raw,if=ide`, '-vnc', `unix:${sock}`],
      { stdio: 'ignore', shell: false },
    );
    await waitFor('QEMU VNC socket', async () => (await readdir(dir)).includes(`${name}.sock`));
    return { proc, sock };
  };
  const startWebsockify = async (sock: string): Promise<{ proc: ChildProcess; port: number }> => {
    const port = await freePort();
    const proc = spawn('websockify', [`--unix-target=${sock}`, `127.0.0.1:${port}`], { stdio: 'ignore', shell: false });
    await waitFor('websockify', async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/`);
        await r.body?.cancel();
        return true;
      } catch {
        return false;
      }
    });
    return { proc, port };
  };
  try {
    const busy = await startQemu('vnc', busyScreenBootSector());
    qemu = busy.proc;
    const vncSock = busy.sock;
    const keyed = await startQemu('keys', keyEchoBootSector());
    keyQemu = keyed.proc;
    // Let SeaBIOS hand over to the boot sector, so every run sees the same busy screen.
    await new Promise((r) => setTimeout(r, 2500));

    const ws1 = await startWebsockify(vncSock);
    websockify = ws1.proc;
    const wsPort = ws1.port;
    const ws2 = await startWebsockify(keyed.sock);
    keyWebsockify = ws2.proc;

    host = fork(resolve(import.meta.dirname, 'display-bridge-host.ts'), [], { execArgv: ['--import', 'tsx', ...(process.env.VIREO_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.VIREO_BENCH_PROF}`] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const messages: { url?: string; ready?: boolean }[] = [];
    let notify: (() => void) | null = null;
    host.on('message', (m) => {
      messages.push(m as { url?: string });
      notify?.();
    });
    const next = () =>
      new Promise<{ url?: string; ready?: boolean }>((res) => {
        const take = () => {
          if (messages.length) res(messages.shift()!);
          else notify = take;
        };
        take();
      });
    await next();
    const bridgeHost = host;
    const bridgeUrl = async (socket = vncSock) => {
      bridgeHost.send({ socket });
      return (await next()).url!;
    };

    const paths: Record<PathName, () => Promise<RfbClient>> = {
      bridge: async () => RfbClient.overWebSocket(await bridgeUrl()),
      websockify: () => RfbClient.overWebSocket(`ws://127.0.0.1:${wsPort}/`),
      direct: () => RfbClient.overUnix(vncSock),
    };
    const results: Record<PathName, RunResult[]> = { bridge: [], websockify: [], direct: [] };
    const order: PathName[] = ['bridge', 'websockify', 'direct'];
    for (let i = 0; i < runs; i++) {
      // Rotate the order so no path always runs on a warmer (or hotter) machine.
      for (let k = 0; k < order.length; k++) {
        const name = order[(i + k) % order.length]!;
        const pid = name === 'bridge' ? host.pid : name === 'websockify' ? websockify.pid : undefined;
        results[name].push(await measure(paths[name], seconds, pid));
      }
    }
    // Keypress → changed pixels, blocks of samples per path in a rotating order.
    const keySamples = Number(process.env.VIREO_BENCH_KEY_SAMPLES ?? 12);
    const keyPaths: Record<PathName, () => Promise<RfbClient>> = {
      bridge: async () => RfbClient.overWebSocket(await bridgeUrl(keyed.sock)),
      websockify: () => RfbClient.overWebSocket(`ws://127.0.0.1:${ws2.port}/`),
      direct: () => RfbClient.overUnix(keyed.sock),
    };
    const keyLat: Record<PathName, number[]> = { bridge: [], websockify: [], direct: [] };
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < order.length; k++) {
        const name = order[(i + k) % order.length]!;
        keyLat[name].push(...(await measureKeyLatency(keyPaths[name], keySamples)));
      }
    }
    const keySummary = Object.fromEntries(
      order.map((n) => [n, { msMedian: round(median(keyLat[n]), 1), msMin: round(Math.min(...keyLat[n]), 1), msMax: round(Math.max(...keyLat[n]), 1), samples: keyLat[n].map((x) => round(x, 1)) }]),
    ) as Record<PathName, { msMedian: number; msMin: number; msMax: number; samples: number[] }>;

    const probe = await RfbClient.overUnix(vncSock);
    const init = await probe.handshake();
    probe.close();

    const cpuMedian = (rs: RunResult[]) => {
      const xs = rs.map((r) => r.proxyCpuSecPer100MB).filter((x): x is number => x !== null);
      return xs.length ? round(median(xs), 3) : null;
    };
    const summary = Object.fromEntries(
      order.map((n) => [
        n,
        {
          fpsMedian: round(median(results[n].map((r) => r.fps))),
          // All runs' frames over all runs' time: a run of a few seconds counts whole frames of
          // QEMU's ~30 ms refresh, so its own figure moves by one frame (1 %) with the phase.
          framesTotal: results[n].reduce((a, r) => a + r.frames, 0),
          fpsPooled: round(results[n].reduce((a, r) => a + r.frames, 0) / results[n].reduce((a, r) => a + r.seconds, 0)),
          mbPerSecMedian: round(median(results[n].map((r) => r.mbPerSec))),
          frameMsMedian: round(median(results[n].map((r) => r.frameMsMedian)), 1),
          proxyCpuSecPer100MBMedian: cpuMedian(results[n]),
          runs: results[n],
        },
      ]),
    ) as Record<PathName, { fpsMedian: number; framesTotal: number; fpsPooled: number; mbPerSecMedian: number; frameMsMedian: number; proxyCpuSecPer100MBMedian: number | null; runs: RunResult[] }>;
    const result = {
      name: 'display',
      what: 'full-frame Raw VNC updates per second, one request in flight, same QEMU VNC socket',
      when: new Date().toISOString(),
      frame: { width: init.width, height: init.height, bytes: init.width * init.height * (init.pixelFormat.bitsPerPixel / 8) },
      secondsPerRun: seconds,
      runsPerPath: runs,
      paths: summary,
      keyLatency: {
        what: 'keypress (RFB KeyEvent) → the Raw pixels of the changed screen received; same RFB client on each path, so the viewer-side drawing (noVNC) is common to both and not counted',
        paths: keySummary,
      },
      ratio: {
        bridgeVsWebsockifyKeyLatency: round(keySummary.bridge.msMedian / keySummary.websockify.msMedian),
        bridgeVsWebsockifyFps: round(summary.bridge.fpsPooled / summary.websockify.fpsPooled),
        bridgeVsDirectFps: round(summary.bridge.fpsPooled / summary.direct.fpsPooled),
        bridgeVsWebsockifyCpu:
          summary.bridge.proxyCpuSecPer100MBMedian !== null && summary.websockify.proxyCpuSecPer100MBMedian
            ? round(summary.bridge.proxyCpuSecPer100MBMedian / summary.websockify.proxyCpuSecPer100MBMedian)
            : null,
      },
      note:
        "QEMU's VNC server sends updates on its refresh timer (30 ms base while the screen changes), so ~33 " +
        'frames/s is the ceiling on every path; a ratio near 1 against direct means the proxy is not the ' +
        'bottleneck, and CPU seconds per 100 MB carried (lower is better) is where the proxies differ.',
    };
    const out = opts.out === undefined ? resolve(import.meta.dirname, 'results/display.json') : opts.out;
    if (out) {
      await mkdir(resolve(out, '..'), { recursive: true });
      await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    }
    return result;
  } finally {
    if (host?.connected) {
      // Let the bridge close cleanly (and write a --cpu-prof profile when one was asked for).
      const exited = new Promise((r) => host!.once('exit', r));
      host.send({ quit: true });
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    }
    await Promise.all([stop(host), stop(websockify), stop(qemu), stop(keyWebsockify), stop(keyQemu)]);
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = (await runDisplayBench()) as { paths: Record<string, { fpsMedian: number; mbPerSecMedian: number }>; ratio: object };
  const r2 = r as unknown as { paths: Record<string, { fpsMedian: number; mbPerSecMedian: number; frameMsMedian: number; proxyCpuSecPer100MBMedian: number | null }> };
  for (const [name, p] of Object.entries(r2.paths)) {
    console.log(
      `${name.padEnd(11)} ${String(p.fpsMedian).padStart(6)} frames/s ${String(p.mbPerSecMedian).padStart(6)} MB/s ` +
        `${String(p.frameMsMedian).padStart(5)} ms/frame  proxy CPU ${p.proxyCpuSecPer100MBMedian ?? '-'} s/100MB`,
    );
  }
  console.log(JSON.stringify(r.ratio));
}
