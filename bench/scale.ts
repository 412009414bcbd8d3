import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../electron/engine/index.ts';
import { type BenchResult, type Row, log, machine, round, spread, writeResult } from './lib/common.ts';

// Scale: how the cost of create, list, engine load (a new engine reading the library) and
// start grows with the number of VMs, 1 → 50 (start: 1 → 10 running at once). The VMs have no
// boot media and 64 MiB, so a running one idles in the firmware instead of booting a guest:
// the figure is the engine's and QEMU's start-up, not a guest competing for the CPU.

const BENCH = 'scale';
const CHECKPOINTS = [1, 10, 25, 50];
const START_MAX = Number(process.env.VIREO_BENCH_SCALE_START ?? 10);

const ms = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

/** log-log slope of cost against n: ~1 linear, ~2 quadratic, ~0 constant. */
function slope(points: [number, number][]): number {
  const xs = points.map(([n]) => Math.log(n));
  const ys = points.map(([, c]) => Math.log(Math.max(c, 1e-6)));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return round(num / den, 2);
}

export async function runScaleBench(): Promise<BenchResult> {
  const t0 = performance.now();
  const home = await mkdtemp(join(tmpdir(), 'vireo-bench-scale-'));
  let engine: Engine | null = await createEngine({ home });
  let accel = { chosen: null as string | null, reason: null as string | null };
  const table: { n: number; createMs: number; listMs: number; loadMs: number }[] = [];
  const startMs: { running: number; ms: number }[] = [];
  const ids: string[] = [];
  try {
    await engine.client.call('host.selfTest', {});
    const createTimes: number[] = [];
    for (let n = 1; n <= CHECKPOINTS[CHECKPOINTS.length - 1]!; n++) {
      createTimes.push(
        await ms(async () => {
          const vm = await engine!.client.call('vms.create', { name: `scale-${n}`, memory: '64M', disk: '16M', cpus: 1 });
          ids.push(vm.id);
        }),
      );
      if (!CHECKPOINTS.includes(n)) continue;
      // A list costs microseconds: time batches of 200 calls, so timer resolution and one GC
      // pause do not decide the figure.
      const lists: number[] = [];
      for (let b = 0; b < 5; b++) {
        lists.push(
          (await ms(async () => {
            for (let i = 0; i < 200; i++) await engine!.client.call('vms.list', {});
          })) / 200,
        );
      }
      // A fresh engine on the same library: what the app, the CLI and serve pay at start-up.
      // One engine owns a library at a time, so the bench's own engine steps aside meanwhile.
      await engine!.dispose();
      engine = null;
      const loads: number[] = [];
      for (let i = 0; i < 3; i++) {
        let e2: Engine | null = null;
        loads.push(
          await ms(async () => {
            e2 = await createEngine({ home });
            await e2.client.call('vms.list', {});
          }),
        );
        await (e2 as Engine | null)?.dispose();
      }
      engine = await createEngine({ home });
      // The create cost at n: median of the last few creates, so one slow disk flush does not decide.
      const recent = createTimes.slice(-Math.min(5, createTimes.length));
      table.push({ n, createMs: spread(recent, 1).median, listMs: spread(lists, 4).median, loadMs: spread(loads, 1).median });
      log(BENCH, `n=${n}: create ${table.at(-1)!.createMs} ms, list ${table.at(-1)!.listMs} ms, load ${table.at(-1)!.loadMs} ms`);
    }
    for (let k = 1; k <= START_MAX; k++) {
      let d: Awaited<ReturnType<Engine['client']['call']>> | undefined;
      const t = await ms(async () => {
        d = await engine!.client.call('vms.start', { vm: ids[k - 1]! });
      });
      const rt = (d as { runtime: { accel: string | null; accelReason: string | null } }).runtime;
      accel = { chosen: rt.accel, reason: rt.accelReason };
      startMs.push({ running: k - 1, ms: round(t, 1) });
    }
    log(BENCH, `start with 0 running: ${startMs[0]!.ms} ms; with ${START_MAX - 1} running: ${startMs.at(-1)!.ms} ms`);
  } finally {
    if (engine) {
      await Promise.all(engine.vms.list().filter((v) => v.state !== 'stopped').map((v) => engine!.client.call('vms.stop', { vm: v.id, force: true }).catch(() => {})));
      await engine.dispose();
      engine = null;
    }
    await rm(home, { recursive: true, force: true });
  }
  const first = table[0]!;
  const last = table.at(-1)!;
  const createRatio = round(last.createMs / first.createMs);
  const listSlope = slope(table.filter((r) => r.n >= 10).map((r) => [r.n, r.listMs]));
  const loadSlope = slope(table.filter((r) => r.n >= 10).map((r) => [r.n, r.loadMs]));
  const startFirst = spread(startMs.slice(0, 3).map((s) => s.ms), 1).median;
  const startLast = spread(startMs.slice(-3).map((s) => s.ms), 1).median;
  const startRatio = round(startLast / startFirst);
  const rows: Row[] = [
    { figure: `create one VM at n=${last.n} vs n=1 (ms)`, vireo: `${last.createMs} vs ${first.createMs}`, peer: '—', ratio: createRatio, goal: '≤ 2 (flat per VM)', met: createRatio <= 2 },
    { figure: `vms.list, n=10→${last.n}: log-log slope`, vireo: table.map((r) => `n=${r.n}: ${r.listMs} ms`).join(', '), peer: '—', ratio: listSlope, goal: '≤ 1.3 (linear, not quadratic)', met: listSlope <= 1.3 },
    { figure: `engine load of the library, n=10→${last.n}: log-log slope`, vireo: table.map((r) => `n=${r.n}: ${r.loadMs} ms`).join(', '), peer: '—', ratio: loadSlope, goal: '≤ 1.3 (linear, not quadratic)', met: loadSlope <= 1.3 },
    {
      figure: `vms.start with ${START_MAX - 3}–${START_MAX - 1} running vs 0–2 running (ms)`,
      vireo: `${startLast} vs ${startFirst}`,
      peer: '—',
      ratio: startRatio,
      goal: '≤ 2 (flat per VM)',
      met: startRatio <= 2,
      ...(startRatio > 2 ? { note: `${START_MAX - 1} QEMUs under TCG share 2 cores with the one starting; the firmware of each still runs` } : {}),
    },
  ];
  const result: BenchResult = {
    name: BENCH,
    what: `create/list/load cost for 1→${last.n} VMs and start cost for 1→${START_MAX} running VMs (no boot media, 64 MiB each)`,
    date: new Date().toISOString(),
    machine: await machine(),
    accel,
    seconds: round((performance.now() - t0) / 1000, 1),
    rows,
    skipped: [],
    data: { table, startMs, startNote: 'VMs without boot media: each idles in SeaBIOS/iPXE, so running ones are not booting a guest while the next starts' },
  };
  await writeResult(result);
  return result;
}
