import { mkdtemp, rm } from 'node:fs/promises';
import { serialSocketOf } from '../test/integration/helpers.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../electron/engine/index.ts';
import { run } from '../electron/engine/util/proc.ts';
import { ensureFixtures, GUEST_MARKERS, SerialShell } from '../test/fixtures/guest.ts';
import { type BenchResult, type Row, fileSize, log, machine, round, spread, waitForLog, writeResult, type Spread } from './lib/common.ts';
import { defineDomain, ensureLibvirt, removeDomain, startLibvirt, type Libvirt } from './lib/libvirt.ts';

/** Why a 1 GiB live restore stays above a tenth of libvirt's revert when it does. */
const RESTORE_TENTH_NOTE =
  "snapshot-load reads the guest's RAM back from the qcow2 (~800 MB filled at 1 GiB): a tenth of libvirt's revert is about 0.4 s here, i.e. ~2 GB/s, above this disk's O_DIRECT read floor; only a qcow2 still in the host page cache reaches it, so the figure follows the cache, not Vireo's code (compare the floor row)";

// Live snapshot save and restore (RAM included) of the test guest with 256 MiB and 1 GiB,
// its RAM filled by the guest with random data (tmpfs), against:
//   floor    RAM bytes / the disk's sequential O_DIRECT write (save) and read (restore) speed,
//            measured with dd in this run on the filesystem that holds the library
//   libvirt  virsh snapshot-create-as / snapshot-revert of the same guest on a private libvirtd
// The Vireo guest and the libvirt guest boot and fill at the same time; while one is measured
// the other is paused, so it takes no CPU.

const BENCH = 'snapshot';
const SIZES_MIB = (process.env.VIREO_BENCH_SNAPSHOT_SIZES ?? '256,1024').split(',').map(Number);

interface DdSpeed {
  writeMBps: Spread;
  readMBps: Spread;
}

async function ddSpeed(dir: string, mib: number, runs: number): Promise<DdSpeed> {
  const file = join(dir, 'dd-floor.bin');
  const parse = (stderr: string) => {
    const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(stderr);
    if (!m) throw new Error(`cannot read dd's speed from: ${stderr}`);
    return Number(m[1]) / Number(m[2]) / 1e6;
  };
  const w: number[] = [];
  const r: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      // Random data: a zero-detecting storage layer must not make the floor look faster.
      if (i === 0) await run('dd', ['if=/dev/urandom', `of=${file}.src`, 'bs=4M', `count=${mib / 4}`, 'status=none']);
      w.push(parse((await run('dd', [`if=${file}.src`, `of=${file}`, 'bs=4M', 'oflag=direct', 'conv=fsync'])).stderr));
      r.push(parse((await run('dd', [`if=${file}`, 'of=/dev/null', 'bs=4M', 'iflag=direct'])).stderr));
    }
  } finally {
    await rm(file, { force: true });
    await rm(`${file}.src`, { force: true });
  }
  return { writeMBps: spread(w, 1), readMBps: spread(r, 1) };
}

/**
 * Fills the guest's RAM: a tmpfs over /dev/shm filled up to a safety margin. /dev/urandom runs
 * at ~10 MB/s in a TCG guest, so it seeds 4 MiB that are then repeated: QEMU's snapshot stream
 * skips only zero pages (no deduplication), so every filled page is still written and read.
 */
async function fillGuest(sh: SerialShell): Promise<{ filledMiB: number; seconds: number }> {
  await sh.run('mount -t tmpfs -o size=100% tmpfs /dev/shm', 15_000);
  const avail = Number(/MemAvailable:\s+(\d+)/.exec(await sh.run('cat /proc/meminfo', 15_000))![1]) / 1024;
  // Leave room for the shell and the kernel's own allocations: an OOM kill would end the test.
  const chunks = Math.max(4, Math.floor((avail - Math.max(20, avail * 0.05)) / 4));
  const t = performance.now();
  await sh.run('dd if=/dev/urandom of=/dev/shm/seed bs=1M count=4 2>/dev/null', 60_000);
  await sh.run(`i=1; while [ $i -lt ${chunks} ]; do cat /dev/shm/seed; i=$((i+1)); done > /dev/shm/fill; echo filled`, 600_000);
  return { filledMiB: chunks * 4, seconds: round((performance.now() - t) / 1000, 1) };
}

async function bootVireo(engine: Engine, fx: { iso: string }, mib: number) {
  const vm = await engine.client.call('vms.create', { name: `snap-${mib}`, iso: fx.iso, memory: `${mib}M`, disk: '64M', cpus: 1, firmware: 'bios' });
  const from = await fileSize(vm.paths.serialLog);
  const d = await engine.client.call('vms.start', { vm: vm.id });
  await waitForLog(vm.paths.serialLog, GUEST_MARKERS.ready, 240_000, from);
  const sh = await SerialShell.connect(serialSocketOf(engine, d));
  return { vm, sh, accel: { chosen: d.runtime.accel, reason: d.runtime.accelReason } };
}

async function bootLibvirt(lv: Libvirt, fx: { iso: string }, mib: number) {
  const name = `vireo-bench-snap-${mib}`;
  const disk = join(lv.dir, `${name}.qcow2`);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  await lv.own(disk);
  const serialLog = join(lv.dir, `${name}.log`);
  const serialSocket = join(lv.dir, `s${mib}.sock`);
  await defineDomain(lv, { name, memoryMiB: mib, disk, iso: fx.iso, serialLog, serialSocket, vncSocket: join(lv.dir, `v${mib}.sock`), mac: '52:54:00:be:0c:02' });
  await lv.virsh(['start', name]);
  await waitForLog(serialLog, GUEST_MARKERS.ready, 240_000);
  const sh = await SerialShell.connect(serialSocket);
  return { name, sh };
}

const timeIt = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
};

function vsLibvirtNote(what: 'save' | 'restore', mine: Spread, theirs: Spread): string {
  const overlap = mine.min <= theirs.max && theirs.min <= mine.max;
  const extra =
    what === 'save'
      ? "on top of the same QEMU snapshot code, Vireo's save also takes a screen thumbnail (screendump → PNG) and writes the tree's metadata"
      : 'both load through the same QEMU snapshot code';
  return `${overlap ? `ranges overlap (Vireo ${mine.min}–${mine.max} s, libvirt ${theirs.min}–${theirs.max} s): within this shared host's noise; ` : ''}${extra}`;
}

export async function runSnapshotBench(opts: { runs?: number } = {}): Promise<BenchResult> {
  const runs = opts.runs ?? Number(process.env.VIREO_BENCH_SNAPSHOT_RUNS ?? 3);
  const t0 = performance.now();
  const fx = await ensureFixtures();
  const home = await mkdtemp(join(tmpdir(), 'vireo-bench-snap-'));
  const engine = await createEngine({ home });
  const skipped: BenchResult['skipped'] = [];
  let lv: Libvirt | null = null;
  let accel = { chosen: null as string | null, reason: null as string | null };
  const perSize: Record<string, unknown> = {};
  const rows: Row[] = [];
  try {
    await engine.client.call('host.selfTest', {});
    log(BENCH, 'disk floor: dd O_DIRECT write/read on the library filesystem');
    const dd = await ddSpeed(home, 512, runs);
    log(BENCH, `dd: write ${dd.writeMBps.median} MB/s, read ${dd.readMBps.median} MB/s`);

    const avail = await ensureLibvirt();
    if (!avail.ok) skipped.push({ peer: 'libvirt', reason: avail.reason! });
    else {
      try {
        lv = await startLibvirt();
      } catch (e) {
        skipped.push({ peer: 'libvirt', reason: `libvirtd could not start here: ${(e as Error).message.slice(0, 400)}` });
      }
    }

    for (const mib of SIZES_MIB) {
      log(BENCH, `${mib} MiB: booting the Vireo${lv ? ' and libvirt' : ''} guests`);
      const [v, l] = await Promise.all([
        bootVireo(engine, fx, mib),
        lv
          ? bootLibvirt(lv, fx, mib).catch((e: Error) => {
              skipped.push({ peer: `libvirt ${mib} MiB`, reason: `the libvirt guest did not boot: ${e.message.slice(0, 300)}` });
              return null;
            })
          : Promise.resolve(null),
      ]);
      accel = v.accel;
      try {
        log(BENCH, `${mib} MiB: filling guest RAM (tmpfs)`);
        const [vf, lf] = await Promise.all([fillGuest(v.sh), l ? fillGuest(l.sh) : Promise.resolve(null)]);
        log(BENCH, `${mib} MiB: filled ${vf.filledMiB} MiB in ${vf.seconds} s`);

        const save: number[] = [];
        const restore: number[] = [];
        if (l) await lv!.virsh(['suspend', l.name]);
        for (let i = 0; i < runs; i++) {
          save.push(await timeIt(() => engine.client.call('snapshots.save', { vm: v.vm.id, name: `s${i}` })));
          restore.push(await timeIt(() => engine.client.call('snapshots.restore', { vm: v.vm.id, snapshot: `s${i}` })));
          // One snapshot at a time: the image does not grow by a RAM copy per run.
          await engine.client.call('snapshots.delete', { vm: v.vm.id, snapshot: `s${i}` });
        }
        const lsave: number[] = [];
        const lrestore: number[] = [];
        if (l) {
          await engine.client.call('vms.pause', { vm: v.vm.id });
          await lv!.virsh(['resume', l.name]);
          try {
            for (let i = 0; i < runs; i++) {
              lsave.push(await timeIt(() => lv!.virsh(['snapshot-create-as', l.name, `s${i}`], 600_000)));
              lrestore.push(await timeIt(() => lv!.virsh(['snapshot-revert', l.name, `s${i}`], 600_000)));
              await lv!.virsh(['snapshot-delete', l.name, `s${i}`], 600_000);
            }
          } catch (e) {
            skipped.push({ peer: `libvirt ${mib} MiB`, reason: `virsh snapshot failed: ${(e as Error).message.slice(0, 300)}` });
            lsave.length = 0;
            lrestore.length = 0;
          }
        }
        const ramMB = (mib * 1024 ** 2) / 1e6;
        const floorSave = ramMB / dd.writeMBps.median;
        const floorRestore = ramMB / dd.readMBps.median;
        const s = spread(save);
        const r = spread(restore);
        const ls = lsave.length ? spread(lsave) : null;
        const lr = lrestore.length ? spread(lrestore) : null;
        perSize[`${mib}MiB`] = { filled: vf, libvirtFilled: lf, saveSeconds: s, restoreSeconds: r, libvirtSaveSeconds: ls, libvirtRestoreSeconds: lr, floorSaveSeconds: round(floorSave), floorRestoreSeconds: round(floorRestore) };
        const fmt = (x: Spread) => `${x.median} s (${x.min}–${x.max})`;
        const limit = (what: 'save' | 'restore', x: Spread, floor: number, ratio: number) =>
          ratio <= 1
            ? {}
            : {
                note:
                  `runs spread ${x.min}–${x.max} s on a shared host; the best run is ${round(x.min / floor, 2)} × the floor. ` +
                  (what === 'save'
                    ? `QEMU's snapshot-save streams RAM through its migration code into the qcow2 with buffered writes while the guest keeps running (live); the floor is raw O_DIRECT dd at ${dd.writeMBps.median} MB/s`
                    : `QEMU's snapshot-load reads the stream back into guest RAM; a run below the floor read a qcow2 still in the host page cache, a slow run did not: the floor is O_DIRECT dd at ${dd.readMBps.median} MB/s`),
              };
        const rs = round(s.median / floorSave);
        const rr = round(r.median / floorRestore);
        rows.push({ figure: `save ${mib} MiB (s)`, vireo: fmt(s), peer: `floor ${round(floorSave)} s`, ratio: rs, goal: '≤ 1.0 × floor', met: rs <= 1, ...limit('save', s, floorSave, rs) });
        rows.push({ figure: `restore ${mib} MiB (s)`, vireo: fmt(r), peer: `floor ${round(floorRestore)} s`, ratio: rr, goal: '≤ 1.0 × floor', met: rr <= 1, ...limit('restore', r, floorRestore, rr) });
        const lvNote = skipped.filter((x) => x.peer.startsWith('libvirt')).map((x) => x.reason).join('; ');
        for (const [what, mine, theirs] of [['save', s, ls], ['restore', r, lr]] as const) {
          if (theirs) {
            const ratio = round(mine.median / theirs.median);
            // issue 21: a 1 GiB restore at a tenth of libvirt's revert; elsewhere below libvirt
            const bound = what === 'restore' && mib >= 1024 ? 0.1 : 1;
            const goal = bound < 1 ? '≤ 0.1 × libvirt' : 'below libvirt (< 1)';
            const met = bound < 1 ? ratio <= bound : ratio < 1;
            rows.push({ figure: `${what} ${mib} MiB (s)`, vireo: fmt(mine), peer: `libvirt ${fmt(theirs)}`, ratio, goal, met, ...(met ? {} : { note: ratio >= 1 ? vsLibvirtNote(what, mine, theirs) : RESTORE_TENTH_NOTE }) });
          } else {
            rows.push({ figure: `${what} ${mib} MiB (s)`, vireo: fmt(mine), peer: 'libvirt: not run', ratio: null, goal: 'below libvirt (< 1)', met: null, note: lvNote || 'libvirt not available' });
          }
        }
      } finally {
        v.sh.close();
        l?.sh.close();
        await engine.client.call('vms.stop', { vm: v.vm.id, force: true }).catch(() => {});
        if (l) await removeDomain(lv!, l.name);
      }
    }
    perSize.dd = dd;
  } finally {
    await Promise.all(engine.vms.list().filter((v) => v.state !== 'stopped').map((v) => engine.client.call('vms.stop', { vm: v.id, force: true }).catch(() => {})));
    await engine.dispose();
    await lv?.stop();
    await rm(home, { recursive: true, force: true });
  }
  const result: BenchResult = {
    name: BENCH,
    what: 'live snapshot save and restore (RAM included) of the test guest, RAM filled in a guest tmpfs (4 MiB from /dev/urandom, repeated), vs the disk floor (dd O_DIRECT) and vs virsh snapshot-create-as/snapshot-revert',
    date: new Date().toISOString(),
    machine: await machine(),
    accel,
    seconds: round((performance.now() - t0) / 1000, 1),
    rows,
    skipped,
    data: { runs, sizesMiB: SIZES_MIB, ...perSize, floorMethod: 'dd bs=4M of 512 MiB of random data, oflag=direct conv=fsync (write) and iflag=direct (read), in the library folder' },
  };
  await writeResult(result);
  return result;
}
