import { chmod, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../electron/engine/index.ts';
import { directBootArgs, SerialShell, GUEST_MARKERS } from '../test/fixtures/guest.ts';
import { withLibvirtGuest } from './lib/libvirt-guest.ts';
import { type BenchResult, type Row, log, machine, round, spread, writeResult } from './lib/common.ts';

// Sequential read of one 256 MiB file in the guest, over a shared folder: Vireo's 9p and
// virtiofs shares vs libvirt's `<filesystem type='mount' accessmode='passthrough'>` of the
// same folder (9p driver, and virtiofs driver where the session daemon allows it). Same test
// guest (direct-kernel boot, 1 vCPU, TCG), same file, the host's page cache warm for every
// run, the guest's dropped before each; timed by the guest's clock (/proc/uptime) so the
// serial console's latency is not counted. libvirt runs as a session daemon started here (as
// the user "nobody" when run as root, like bench/nat.ts). Ratios are Vireo ÷ libvirt.

const BENCH = 'shares';
const MIB = Number(process.env.VIREO_BENCH_SHARES_MIB ?? 256);
const RUNS = Number(process.env.VIREO_BENCH_SHARES_RUNS ?? 2);
type Kind = '9p' | 'virtiofs';

async function bigFile(dir: string): Promise<string> {
  const path = join(dir, 'big');
  const fh = await open(path, 'w', 0o644);
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  for (let i = 0; i < MIB; i++) await fh.write(chunk);
  await fh.close();
  return path;
}

/** Warms the host cache, then RUNS timed reads of /mnt/<tag>/big in the guest; MB/s each. */
async function measure(sh: SerialShell, host: string, mount: string): Promise<number[]> {
  const m = await sh.run(`mkdir -p /mnt/b && ${mount} /mnt/b; echo MNT $?`, 60_000);
  if (!/MNT 0/.test(m)) throw new Error(`mount failed in the guest: ${m}`);
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await readFile(host);
    const r = await sh.run(`echo 3 > /proc/sys/vm/drop_caches; a=$(cut -d' ' -f1 /proc/uptime); dd if=/mnt/b/big of=/dev/null bs=1M 2>/dev/null; b=$(cut -d' ' -f1 /proc/uptime); echo SHT $a $b`, 900_000);
    const t = /SHT (\S+) (\S+)/.exec(r);
    if (!t) throw new Error(`read did not finish: ${r}`);
    out.push((MIB * 1.048576) / (Number(t[2]) - Number(t[1])));
  }
  await sh.run('umount /mnt/b', 30_000);
  return out;
}

const mountOf = (kind: Kind, tag: string) => (kind === '9p' ? `mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 ${tag}` : `mount -t virtiofs ${tag}`);

async function vireo(engine: Engine, dir: string, host: string): Promise<Record<Kind, number[] | string>> {
  const out: Record<Kind, number[] | string> = { '9p': 'not run', virtiofs: 'not run' };
  const vm = await engine.client.call('vms.create', { name: 'shares-bench', iso: null, memory: '256M', disk: '16M', cpus: 1, accel: 'tcg' });
  await engine.client.call('vms.update', { vm: vm.id, patch: { advanced: { extraArgs: await directBootArgs() } } });
  const l = await engine.client.call('shares.add', { vm: vm.id, path: dir, tag: 'b9p' });
  if (l.availability.virtiofs.available) await engine.client.call('shares.add', { vm: vm.id, path: dir, tag: 'bvfs', type: 'virtiofs' });
  else out.virtiofs = `virtiofs is not available: ${l.availability.virtiofs.reason}`;
  await engine.client.call('vms.start', { vm: vm.id });
  const sh = await SerialShell.connect(engine.vms.resolve(vm.id).paths.serialSocket);
  try {
    await sh.waitFor(GUEST_MARKERS.ready, 240_000);
    out['9p'] = await measure(sh, host, mountOf('9p', 'b9p'));
    if (typeof out.virtiofs !== 'string' || out.virtiofs === 'not run') out.virtiofs = await measure(sh, host, mountOf('virtiofs', 'bvfs'));
  } finally {
    sh.close();
    await engine.client.call('vms.stop', { vm: vm.id, force: true }).catch(() => {});
  }
  return out;
}

/** One libvirt domain with the folder as `<filesystem>` of this driver; the reason when it cannot run. */
async function libvirt(kind: Kind, share: string, host: string): Promise<number[] | string> {
  const fs =
    kind === '9p'
      ? `<filesystem type='mount' accessmode='passthrough'><source dir='${share}'/><target dir='lvfs'/><readonly/></filesystem>`
      : `<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><source dir='${share}'/><target dir='lvfs'/></filesystem>`;
  const mem = kind === 'virtiofs' ? `<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>` : '';
  try {
    return await withLibvirtGuest(
      { name: `vireo-shares-bench-${kind}-${process.pid}`, machine: 'q35', memoryMiB: 256, domainExtra: mem, devices: fs, readyTimeoutMs: 240_000 },
      (sh) => measure(sh, host, mountOf(kind, 'lvfs')),
    );
  } catch (e) {
    return `libvirt (${kind}) could not run here: ${(e as Error).message.split('\n').slice(0, 2).join(' ')}`;
  }
}

export async function runSharesBench(): Promise<BenchResult> {
  const t0 = performance.now();
  const share = await mkdtemp(join(tmpdir(), 'vireo-bench-share-'));
  await chmod(share, 0o755); // libvirt's QEMU runs as nobody
  const host = await bigFile(share);
  const home = await mkdtemp(join(tmpdir(), 'vireo-bench-shares-'));
  const engine = await createEngine({ home });
  let v: Record<Kind, number[] | string>;
  const lv: Record<Kind, number[] | string> = { '9p': 'not run', virtiofs: 'not run' };
  try {
    v = await vireo(engine, share, host);
    log(BENCH, `vireo: ${JSON.stringify(v)}`);
    for (const k of ['9p', 'virtiofs'] as const) {
      lv[k] = await libvirt(k, share, host);
      log(BENCH, `libvirt ${k}: ${JSON.stringify(lv[k])}`);
    }
  } finally {
    await engine.dispose();
    await rm(home, { recursive: true, force: true });
    await rm(share, { recursive: true, force: true });
  }
  const rows: Row[] = [];
  for (const k of ['9p', 'virtiofs'] as const) {
    const mine = v[k];
    const peer = lv[k];
    // virtiofs has no libvirt peer when the session daemon refuses it: then libvirt's 9p is the peer.
    const peerNums = typeof peer === 'string' ? (typeof lv['9p'] === 'string' ? null : lv['9p']) : peer;
    if (typeof mine === 'string') {
      rows.push({ figure: `${k} share: sequential read MB/s (${MIB} MiB)`, vireo: 'not measured', peer: '—', ratio: null, goal: `≥ 1.0 × libvirt`, met: null, note: mine });
      continue;
    }
    const s = spread(mine);
    const p = peerNums ? spread(peerNums) : null;
    const ratio = p ? round(s.median / p.median) : null;
    const peerName = typeof peer === 'string' ? 'libvirt 9p passthrough' : `libvirt ${k} passthrough`;
    rows.push({
      figure: `${k} share: sequential read MB/s in the guest (dd ${MIB} MiB)`,
      vireo: `${s.median} (${s.min}–${s.max})`,
      peer: p ? `${peerName} ${p.median} (${p.min}–${p.max})` : 'libvirt not run',
      ratio,
      goal: '≥ 1.0 × libvirt',
      met: ratio === null ? null : ratio >= 1,
      ...(typeof peer === 'string' ? { note: peer } : {}),
    });
  }
  const skipped = (['9p', 'virtiofs'] as const).filter((k) => typeof lv[k] === 'string').map((k) => ({ peer: `libvirt ${k}`, reason: lv[k] as string }));
  const result: BenchResult = {
    name: BENCH,
    what: `sequential read of a ${MIB} MiB file in the guest over Vireo's 9p and virtiofs shares vs libvirt <filesystem accessmode=passthrough> of the same folder, same guest (bench/shares.ts)`,
    date: new Date().toISOString(),
    machine: await machine(),
    accel: { chosen: 'tcg', reason: 'every guest runs under TCG so the file servers are compared on the same guest CPU model' },
    seconds: round((performance.now() - t0) / 1000, 1),
    rows,
    skipped,
    data: { mib: MIB, runs: RUNS, mbPerSec: { vireo: v, libvirt: lv } },
  };
  await writeResult(result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSharesBench().then(
    (r) => r.rows.forEach((x) => log(BENCH, `${x.figure}: ${x.vireo} vs ${x.peer} → ${x.ratio}`)),
    (e: Error) => {
      log(BENCH, `failed: ${e.stack}`);
      process.exitCode = 1;
    },
  );
}
