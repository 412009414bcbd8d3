import { isAbsolute, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import type { JobContext } from '../jobs.ts';
import type { EngineParts } from '../parts.ts';
import { QEMU_IDS } from '../qemu/argv/context.ts';
import type { QmpClient } from '../qmp/client.ts';
import { requireState } from '../vm/state-machine.ts';
import { PeerChannel } from './channel.ts';
import { argAfter, argvSmm, liveRefusals, type Compat } from './compat.ts';
import { swtpmFacts } from './tpm-compat.ts';
import { migrationPsk, nonce } from './pairing.ts';
import { addPskCreds, blockJobs, flashSizes, mirrorId, queryMigrate, TLS_ID, untilMigrated } from './streams.ts';

// The source of a live move to a paired Vireo host: the VM's disks are mirrored (blockdev-mirror,
// sync=full) into the target's NBD exports, and once every mirror is in step its RAM follows
// with QEMU's migration, both over TLS-PSK with a key of this migration. When the migration is
// complete the source's guest is stopped; its mirrors are completed without a pivot (the
// source's own files stay as they were, a fallback until the target runs), then the target is
// told to finish and runs the guest, and only then does the source end its QEMU and remove the
// VM from this library. A cancel or any failure before the target runs undoes it the other
// way: mirrors and migration cancelled, the guest resumed here, the target's half removed.
//
// UEFI and TPM ride in QEMU's own migration stream: the flash chips are RAM blocks of it (the
// target's QEMU writes the variable store back to its file as the guest resumes, streams.ts),
// and the tpm-emulator backend reads swtpm's state blobs out at the switch-over and the
// target's QEMU hands them to its own swtpm, started on the new VM's empty tpm/ folder, which
// writes them there. The target checks first that its swtpm release and flash sizes match.
//
// Snapshots: a VM with snapshots is refused (compat.ts) rather than moved without them; the
// offline move carries the snapshot tree.

export interface VireoPeer {
  name: string;
  uri: string;
  secret: string;
}

export interface MoveResult {
  vm: string;
  host: string;
  /** the guest's stop time at the switch-over (QEMU's downtime), ms */
  downtimeMs: number | null;
  /** the migration's whole time, mirror included, ms */
  totalMs: number;
  snapshots: 'none';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function moveLive(p: EngineParts, peer: VireoPeer, ref: string, o: { bandwidthMiB?: number }, job: JobContext): Promise<MoveResult> {
  const { vms } = p;
  const entry = vms.resolve(ref);
  const config = entry.config;
  if (!config) throw new VireoError('BROKEN_CONFIG', `"${ref}" has a broken config: repair it first`);
  const m = vms.machineFor(entry);
  await p.clones.assertNotBase(entry.id);
  const img = new QemuImg(await p.host.qemuImg());
  const disks = await Promise.all(
    config.disks.map(async (d) => {
      const i = await img.info(isAbsolute(d.file) ? d.file : join(entry.paths.dir, d.file));
      return { id: d.id, format: d.format, virtualSize: i.virtualSize, snapshots: i.snapshots.length };
    }),
  );
  const refusals = liveRefusals(config, Math.max(0, ...disks.map((d) => d.snapshots)));
  if (refusals.length) throw new VireoError('UNSUPPORTED', `cannot move "${config.name}" live: ${refusals.join('; ')}`, { reasons: refusals });
  requireState('move live', config.name, m.state, ['running', 'paused']);
  const rt = m.info;
  if (!rt?.argv.length) throw new VireoError('UNSUPPORTED', `cannot move "${config.name}" live: this engine re-attached to it without its command line; restart it first`);

  const started = Date.now();
  const qmp = m.monitor('move live');
  const v = await qmp.execute<{ qemu: { major: number; minor: number; micro: number } }>('query-version');
  const swtpm = config.system.tpm ? await swtpmFacts() : null;
  const compat: Compat = {
    qemuVersion: `${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro}`,
    machineType: await qmp.execute<string>('qom-get', { path: '/machine', property: 'type' }),
    accel: rt.accel,
    cpu: argAfter(rt.argv, '-cpu'),
    ...(config.system.tpm ? { swtpm: swtpm?.release ?? null, swtpmFeatures: swtpm?.features ?? [] } : {}),
    ...(config.system.firmware === 'uefi' ? { smm: argvSmm(rt.argv) } : {}),
  };
  const flash = config.system.firmware === 'uefi' ? await flashSizes(qmp) : null;
  if (config.system.firmware === 'uefi' && !flash) throw new VireoError('UNSUPPORTED', `cannot move "${config.name}" live: its QEMU shows no UEFI flash (pflash0/pflash1) to compare with the target's; restart it first`);
  const ch = await PeerChannel.connect(peer.uri, peer.secret);
  const wasRunning = m.state === 'running';
  const ids = disks.map((d) => mirrorId(d.id));
  let targetMade = false;
  let finished = false;
  const onAbort = () => void qmp.execute('migrate_cancel').catch(() => {});
  job.signal.addEventListener('abort', onAbort);
  try {
    const salt = nonce();
    const ready = await ch.call<{ id: string; host: string; nbdPort: number; migratePort: number }>('prepare', { config, disks: disks.map(({ snapshots: _s, ...d }) => d), compat, flash, salt }, 5 * 60_000);
    targetMade = true;
    if (job.signal.aborted) throw cancelled(config.name, peer.name);
    await addPskCreds(qmp, entry.paths.runtime, 'client', migrationPsk(peer.secret, salt));
    const speed = o.bandwidthMiB ? o.bandwidthMiB * 1024 * 1024 : 0;
    const memBytes = config.system.memoryMiB * 1024 * 1024;
    const diskBytes = disks.reduce((s, d) => s + d.virtualSize, 0);
    job.bytes(diskBytes + memBytes);
    for (const d of disks) {
      await qmp.execute('blockdev-add', { driver: 'nbd', 'node-name': mirrorId(d.id), server: { type: 'inet', host: ready.host, port: String(ready.nbdPort) }, export: d.id, 'tls-creds': TLS_ID });
      await qmp.execute('blockdev-mirror', { 'job-id': mirrorId(d.id), device: QEMU_IDS.diskNode(d), target: mirrorId(d.id), sync: 'full', ...(speed ? { speed } : {}) });
    }
    // The disks first: the RAM goes once every mirror is in step, so the switch-over waits on neither.
    for (;;) {
      if (job.signal.aborted) throw cancelled(config.name, peer.name);
      const jobs = await blockJobs(qmp, ids);
      if (jobs.length !== ids.length) throw new VireoError('QEMU_FAILED', `a disk mirror to ${peer.name} ended early: ${await mirrorError(qmp)}`);
      const len = jobs.reduce((s, j) => s + j.len, 0);
      job.progress(len ? (0.8 * jobs.reduce((s, j) => s + j.offset, 0) * diskBytes) / len / (diskBytes + memBytes) : 0);
      if (jobs.every((j) => j.ready)) break;
      await sleep(200);
    }
    await qmp.execute('migrate-set-parameters', { 'tls-creds': TLS_ID, ...(speed ? { 'max-bandwidth': speed } : {}) });
    await qmp.execute('migrate', { uri: `tcp:${ready.host.includes(':') ? `[${ready.host}]` : ready.host}:${ready.migratePort}` });
    const info = await untilMigrated(qmp, `the move of "${config.name}" to ${peer.name}`, (i) => {
      const total = i.ram?.total ?? 0;
      if (total) job.progress((diskBytes + Math.min(total, i.ram?.transferred ?? 0) * (memBytes / total)) / (diskBytes + memBytes) * 0.99);
    }, job.signal);
    // The guest is stopped here now; the mirrors finish what they hold and let the target's disks go (no pivot).
    for (const id of ids) await qmp.execute('block-job-cancel', { device: id });
    for (let i = 0; (await blockJobs(qmp, ids)).length; i++) {
      if (i > 600) throw new VireoError('TIMEOUT', `the disk mirrors to ${peer.name} did not complete within a minute`);
      await sleep(100);
    }
    await ch.call('finish', { id: entry.id }, 5 * 60_000);
    finished = true;
    job.progress(1);
    return { vm: config.name, host: peer.name, downtimeMs: info.downtime ?? null, totalMs: Date.now() - started, snapshots: 'none' };
  } catch (e) {
    if (!finished) {
      await rollBack(qmp, ids, wasRunning);
      if (targetMade) await ch.call('abort', { id: entry.id }, 60_000).catch(() => {});
    }
    if (job.signal.aborted) throw cancelled(config.name, peer.name);
    throw e;
  } finally {
    job.signal.removeEventListener('abort', onAbort);
    ch.close();
  }
}

const cancelled = (vm: string, host: string) => new VireoError('CANCELLED', `the move of "${vm}" to ${host} was cancelled: it runs here as before, nothing is left on ${host}`);

async function mirrorError(qmp: QmpClient): Promise<string> {
  const st = await queryMigrate(qmp).catch(() => null);
  return st?.['error-desc'] ?? 'see the VM log (logs/qemu.log)';
}

/** Everything a move added to the source's QEMU goes; a guest stopped by the migration runs again. */
async function rollBack(qmp: QmpClient, ids: string[], wasRunning: boolean): Promise<void> {
  const quiet = (cmd: string, args?: object) => qmp.execute(cmd, args).catch(() => {});
  const st = await queryMigrate(qmp).catch(() => null);
  if (st?.status && !['none', 'completed', 'failed', 'cancelled'].includes(st.status)) {
    await quiet('migrate_cancel');
    for (let i = 0; i < 100 && !['failed', 'cancelled', 'completed'].includes((await queryMigrate(qmp).catch(() => null))?.status ?? 'failed'); i++) await sleep(100);
  }
  for (const id of ids) await quiet('block-job-cancel', { device: id, force: true });
  for (let i = 0; i < 100 && (await blockJobs(qmp, ids).catch(() => [])).length; i++) await sleep(100);
  for (const id of ids) await quiet('blockdev-del', { 'node-name': id });
  await quiet('migrate-set-parameters', { 'tls-creds': '' });
  await quiet('object-del', { id: TLS_ID });
  if (wasRunning) {
    const s = await qmp.execute<{ running: boolean }>('query-status').catch(() => null);
    if (s && !s.running) await quiet('cont');
  }
}
