import { mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { VireoError } from '../../api/errors.ts';
import { VmConfigSchema, type VmConfig } from '../../api/schemas/vm-config.ts';
import { writeConfig } from '../library/config-store.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { QEMU_IDS } from '../qemu/argv/context.ts';
import type { EngineParts } from '../parts.ts';
import type { QmpClient } from '../qmp/client.ts';
import { argAfter, argvSmm, flashRefusals, liveRefusals, qemuRefusals, type Compat } from './compat.ts';
import { swtpmFacts } from './tpm-compat.ts';
import { migrationPsk, pairingSecret } from './pairing.ts';
import { OfflineLandings } from './offline.ts';
import { addPskCreds, flashSizes, freePort, mirrorId, TLS_ID, untilMigrated } from './streams.ts';

// The target of a live move (a `vireo serve` paired with the source): `prepare` checks what it
// is offered, makes the VM's folder in this library with new, empty disks of the same sizes,
// and starts its QEMU with `-incoming defer` inside the VM's normal start (Machine.start), so
// it is a VM of this library from the first moment, shown as starting. That QEMU then gets
// the TLS-PSK credentials, an NBD server for its disks (the source mirrors into them) and
// listens for the migration stream, both on the address the source reached us on. `finish`
// (sent once the source's QEMU has stopped and its mirrors are complete) lets the start go on:
// the NBD server stops and the guest runs here. `abort`, a failure, or the control channel
// closing before finish kills that QEMU and removes the folder: nothing is left.
//
// UEFI and TPM: the VM's start here makes its variable store from this host's firmware template
// and starts swtpm on the new folder's empty tpm/ (the VM's normal start does both); the
// migration stream then brings the flash contents and the TPM's state blobs (outgoing.ts).
// Before that this host checks its swtpm release, SMM and flash sizes against the source's.
//
// Confinement: all a peer can make is one VM folder in this library. The config it sends is
// parsed by the schema, refused when anything in it names a file or device of a machine
// (compat.ts), and its disks are set to files in the new folder; the variable store and TPM
// state are the folder's own (paths.ts), never named by the peer.

const Offer = z.object({
  config: z.unknown(),
  disks: z.array(z.object({ id: z.string(), format: z.enum(['qcow2', 'raw']), virtualSize: z.number().int().positive().max(2 ** 50) })).max(16),
  compat: z.object({
    qemuVersion: z.string().max(40),
    machineType: z.string().max(80),
    accel: z.string().max(20),
    cpu: z.string().max(400).nullable(),
    swtpm: z.string().max(40).nullable().optional(),
    swtpmFeatures: z.array(z.string().max(60)).max(64).optional(),
    smm: z.boolean().optional(),
  }),
  flash: z.object({ code: z.number().int().positive().max(2 ** 30), vars: z.number().int().positive().max(2 ** 30) }).nullable().optional(),
  salt: z.string().regex(/^[0-9a-f]{32,128}$/),
});

interface Session {
  id: string;
  finish: { resolve(): void; reject(e: Error): void };
  started: Promise<void>;
  done: boolean;
}

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  promise.catch(() => {});
  return { promise, resolve, reject };
};

const uriHost = (h: string) => (h.includes(':') ? `[${h}]` : h);

export class IncomingMigrations {
  private readonly sessions = new Map<string, Session>();
  private readonly offline: OfflineLandings;

  constructor(private readonly p: EngineParts) {
    this.offline = new OfflineLandings(p);
  }

  async handle(op: string, args: Record<string, unknown>, ctx: { closed: AbortSignal; localAddress: string }): Promise<unknown> {
    switch (op) {
      case 'hello': {
        const caps = await this.p.host.capabilities();
        return { vireo: 1, hostname: hostname(), qemuVersion: caps.version };
      }
      case 'list':
        return this.p.vms.list().map((v) => ({ id: v.id, name: v.name, state: v.state }));
      case 'prepare':
        return this.prepare(args, ctx);
      case 'finish':
        return this.finish(String(args.id));
      case 'abort':
        return this.abort(String(args.id), 'the source cancelled the move');
      case 'offline-prepare':
        return this.offline.prepare(args, ctx);
      case 'offline-finish':
        return this.offline.finish(String(args.id));
      case 'offline-abort':
        return this.offline.abort(String(args.id));
      case 'start':
        return this.start(String(args.id));
      default:
        throw new VireoError('UNKNOWN_METHOD', `this host does not know the migration step "${op.slice(0, 40)}": are both engines the same Vireo release?`);
    }
  }

  private async prepare(raw: Record<string, unknown>, ctx: { closed: AbortSignal; localAddress: string }) {
    const offer = Offer.parse(raw);
    const parsed = VmConfigSchema.safeParse(offer.config);
    if (!parsed.success) throw new VireoError('INVALID_ARGUMENT', `the VM's config is not one this host can read: ${parsed.error.issues[0]?.message ?? 'invalid'} (are both engines the same Vireo release?)`);
    const sent = parsed.data;
    const { library, vms } = this.p;
    const refusals = liveRefusals(sent, 0);
    if (refusals.length) throw new VireoError('UNSUPPORTED', `this host refuses "${sent.name}": ${refusals.join('; ')}`, { reasons: refusals });
    if (library.get(sent.id) || this.sessions.has(sent.id)) throw new VireoError('ALREADY_EXISTS', `this host already has the VM ${sent.id} ("${sent.name}"): remove it here first`);
    library.checkName(sent.name);
    const sizes = new Map(offer.disks.map((d) => [d.id, d]));
    if (sent.disks.length !== offer.disks.length || sent.disks.some((d) => sizes.get(d.id)?.format !== d.format)) throw new VireoError('INVALID_ARGUMENT', 'the disks offered do not match the VM config');
    const config: VmConfig = { ...sent, disks: sent.disks.map((d) => ({ ...d, file: `${d.id}.${d.format}` })) };

    // The folder appears in one rename, as a create's does; a failure on the way leaves none.
    const dir = library.paths(config.id).dir;
    const staging = join(library.vmsDir, `.creating-${config.id}`);
    await mkdir(staging, { recursive: true });
    try {
      const img = new QemuImg(await this.p.host.qemuImg());
      for (const d of config.disks) {
        const file = resolve(staging, d.file);
        if (!file.startsWith(staging + sep)) throw new VireoError('INVALID_ARGUMENT', `disk ${d.id} would lie outside the VM's folder`);
        await img.create(file, { format: sizes.get(d.id)!.format, sizeBytes: sizes.get(d.id)!.virtualSize });
      }
      await mkdir(join(staging, 'logs'), { recursive: true });
      await writeConfig(join(staging, 'vm.json'), config);
      await rename(staging, dir);
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
    const entry = await library.loadOne(config.id);
    let cleaning: Promise<void> | null = null;
    const cleanup = () =>
      (cleaning ??= (async () => {
        this.sessions.delete(config.id);
        await vms.delete(config.id).catch(() => library.remove(config.id).catch(() => {}));
      })());
    try {
      const spec = await vms.backendFor(config).prepareLaunch(entry, config, {});
      const uefi = config.system.firmware === 'uefi';
      const swtpm = config.system.tpm ? await swtpmFacts() : null;
      const here: Compat = {
        qemuVersion: (await this.p.host.capabilities(config.arch)).version,
        machineType: offer.compat.machineType,
        accel: spec.accel,
        cpu: argAfter(spec.argv, '-cpu'),
        ...(config.system.tpm ? { swtpm: swtpm?.release ?? null, swtpmFeatures: swtpm?.features ?? [] } : {}),
        ...(uefi ? { smm: argvSmm(spec.argv) } : {}),
      };
      // What the config has, the source must have described: a TPM's swtpm, a UEFI VM's SMM and flash.
      const source: Compat = { ...offer.compat, swtpm: config.system.tpm ? (offer.compat.swtpm ?? null) : undefined, smm: uefi ? (offer.compat.smm ?? false) : undefined };
      const bad = qemuRefusals(source, here);
      if (uefi && !offer.flash) bad.push("the source did not say how large its UEFI flash is (are both engines the same Vireo release?)");
      if (bad.length) throw new VireoError('UNSUPPORTED', `this host cannot take "${config.name}" live: ${bad.join('; ')}`, { reasons: bad });
      const host = ctx.localAddress;
      const [nbdPort, migratePort] = [await freePort(host), await freePort(host)];
      const key = migrationPsk(await pairingSecret(this.p.home), offer.salt);
      const ready = deferred<void>();
      const finish = deferred<void>();
      const receive = async (qmp: QmpClient) => {
        const made = await qmp.execute<string>('qom-get', { path: '/machine', property: 'type' });
        if (made !== offer.compat.machineType) throw new VireoError('UNSUPPORTED', `machine type differs: the source runs ${offer.compat.machineType}, this host's QEMU makes ${made}`);
        if (offer.flash) {
          const flash = await flashSizes(qmp);
          const wrong = flash ? flashRefusals(offer.flash, flash) : ['this host started the VM without UEFI flash'];
          if (wrong.length) throw new VireoError('UNSUPPORTED', `this host cannot take "${config.name}" live: ${wrong.join('; ')}`, { reasons: wrong });
        }
        const dropKey = await addPskCreds(qmp, entry.paths.runtime, 'server', key);
        try {
          await qmp.execute('nbd-server-start', { addr: { type: 'inet', data: { host, port: String(nbdPort) } }, 'tls-creds': TLS_ID });
          for (const d of config.disks) await qmp.execute('block-export-add', { type: 'nbd', id: mirrorId(d.id), 'node-name': QEMU_IDS.diskNode(d), name: d.id, writable: true });
          await qmp.execute('migrate-set-parameters', { 'tls-creds': TLS_ID });
          await qmp.execute('migrate-incoming', { uri: `tcp:${uriHost(host)}:${migratePort}` });
          ready.resolve();
          await finish.promise;
          await untilMigrated(qmp, `the move of "${config.name}"`);
          await qmp.execute('nbd-server-stop');
          // This QEMU may be moved on later: that move brings credentials of its own.
          await qmp.execute('migrate-set-parameters', { 'tls-creds': '' });
          await qmp.execute('object-del', { id: TLS_ID });
        } finally {
          await dropKey();
        }
      };
      const started = vms.locks.run(config.id, 'an incoming move', () => vms.machineFor(entry).start({ ...spec, argv: [...spec.argv, '-incoming', 'defer'], incoming: { resumeRunning: true, receive } }));
      const session: Session = { id: config.id, finish, started, done: false };
      this.sessions.set(config.id, session);
      started.then(
        () => (session.done = true),
        () => void cleanup(),
      );
      started.catch((e: Error) => ready.reject(e));
      // The source going away before finish is a cancel: its VM runs on there.
      ctx.closed.addEventListener('abort', () => session.done || finish.reject(new VireoError('CANCELLED', 'the source went away before the move finished')));
      await ready.promise;
      return { id: config.id, host, nbdPort, migratePort };
    } catch (e) {
      await cleanup();
      throw e;
    }
  }

  /** A VM just moved here offline, started at the source's asking (`vms.move {start}`). */
  private async start(id: string) {
    const entry = this.p.library.get(id);
    if (!entry) throw new VireoError('NOT_FOUND', `no VM ${id} here`);
    const d = await this.p.vms.start(id, {});
    return { id, name: d.name, state: d.state };
  }

  private async finish(id: string) {
    const s = this.sessions.get(id);
    if (!s) throw new VireoError('NOT_FOUND', `no move of VM ${id} is under way here`);
    s.finish.resolve();
    await s.started;
    this.sessions.delete(id);
    const v = this.p.vms.summary(this.p.library.get(id)!);
    return { id, name: v.name, state: v.state };
  }

  private async abort(id: string, why: string) {
    const s = this.sessions.get(id);
    if (!s) return { removed: false };
    s.finish.reject(new VireoError('CANCELLED', why));
    await s.started.catch(() => {});
    // started's failure handler removes the folder; wait for it.
    for (let i = 0; i < 100 && this.p.library.get(id); i++) await new Promise((r) => setTimeout(r, 50));
    return { removed: !this.p.library.get(id) };
  }
}
