import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { VireoError } from '../../api/errors.ts';
import { VmConfigSchema, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { VmOfflineMoveResult } from '../../api/host-types.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import type { JobContext } from '../jobs.ts';
import { newMac } from '../library/library.ts';
import { writeConfig } from '../library/config-store.ts';
import type { EngineParts } from '../parts.ts';
import { loadMeta } from '../snapshots/meta.ts';
import { checkDiskImage } from '../policy/disk-image.ts';
import { PeerChannel } from './channel.ts';
import { offlineRefusals } from './compat.ts';
import { listFiles, receiveFiles, safeRelative, sendFiles, type FileEntry } from './files.ts';
import type { VireoPeer } from './outgoing.ts';
import { migrationPsk, nonce, pairingSecret } from './pairing.ts';

// The offline move (or copy) of a stopped VM to a paired Vireo host: its whole folder (disks
// with their internal snapshots, the snapshot tree and thumbnails, NVRAM, TPM state) goes
// over one TLS-PSK stream (files.ts) into a staging folder on the target, which becomes a VM
// of the target's library in one rename once every file is in. A move removes the VM here
// afterwards; a copy keeps it and the target's gets a new id and new MAC addresses (two
// machines with one identity would fight on a network). Left behind, and said so: the CD's
// ISO and a floppy image (files of this machine). Logs and a saved state stay too (a saved VM
// is refused: its RAM belongs to this machine's QEMU).

const SKIP = /^(vm\.json|logs(\/.*)?|saved-state\..*|\.saved-state\..*|\..*)$/;

export async function moveOffline(p: EngineParts, peer: VireoPeer, ref: string, o: { copy?: boolean }, job: JobContext): Promise<VmOfflineMoveResult> {
  const { vms } = p;
  const entry = vms.resolve(ref);
  const config = entry.config;
  if (!config) throw new VireoError('BROKEN_CONFIG', `"${ref}" has a broken config: repair it first`);
  const state = vms.machineFor(entry).state;
  if (state === 'saved') throw new VireoError('INVALID_STATE', `"${config.name}" has a saved state, which is this machine's QEMU's: start it (it resumes) and shut it down, or discard the state, then move it`);
  if (state !== 'stopped' && state !== 'crashed') throw new VireoError('INVALID_STATE', `"${config.name}" is ${state}: an offline move takes a stopped VM (shut it down, or move it live)`);
  if (!o.copy) await p.clones.assertNotBase(entry.id);
  const meta = await loadMeta(entry.paths.snapshotsMeta);
  if (meta.pending) throw new VireoError('BUSY', `a snapshot operation on "${config.name}" did not finish: open its snapshots once (which completes or undoes it), then move it`);
  const dropped: string[] = [];
  const isos = [config.cdrom.iso, ...config.cdrom.extra.map((x) => x.iso)].filter(Boolean);
  if (isos.length) dropped.push(`the CD's ISO (${isos.join(', ')}), a file of this machine: insert one there`);
  if (config.floppy) dropped.push(`the floppy image ${config.floppy}, a file of this machine`);
  const sent: VmConfig = { ...config, cdrom: { ...config.cdrom, iso: null, extra: config.cdrom.extra.map((x) => ({ ...x, iso: null })) }, floppy: null };
  const refusals = offlineRefusals(sent);
  const img = new QemuImg(await p.host.qemuImg());
  const dir = entry.paths.dir;
  const files: (FileEntry & { from?: string })[] = await listFiles(dir, (rel) => SKIP.test(rel));
  const disks = [];
  for (const d of sent.disks) {
    const path = isAbsolute(d.file) ? d.file : join(dir, d.file);
    const inside = !relative(dir, path).startsWith('..') && !isAbsolute(relative(dir, path));
    if (d.readOnly && !inside) refusals.push(`disk ${d.id} is ${d.file}, a read-only image of this machine shared with others: detach it first`);
    if ((await img.info(path)).backingFile) refusals.push(`disk ${d.id} is built on a base image (a linked clone): make a full clone and move that`);
    if (inside) {
      disks.push({ ...d, file: relative(dir, path).split(sep).join('/') });
    } else {
      let name = `${d.id}${extname(d.file) || '.img'}`;
      if (files.some((f) => f.path === name)) name = `${d.id}-moved${extname(d.file) || '.img'}`;
      files.push({ path: name, size: (await stat(path)).size, from: path });
      disks.push({ ...d, file: name });
    }
  }
  if (refusals.length) throw new VireoError('UNSUPPORTED', `cannot move "${config.name}" to ${peer.name}: ${refusals.join('; ')}`, { reasons: refusals });
  sent.disks = disks;

  return vms.locks.run(entry.id, 'a move to another host', async () => {
    const ch = await PeerChannel.connect(peer.uri, peer.secret);
    let made: string | null = null;
    try {
      const salt = nonce();
      const ready = await ch.call<{ id: string; host: string; port: number }>('offline-prepare', { config: sent, files: files.map(({ path, size }) => ({ path, size })), salt, copy: !!o.copy }, 60_000);
      made = ready.id;
      const total = files.reduce((s, f) => s + f.size, 0);
      job.bytes(total);
      let done = 0;
      await sendFiles(ready.host, ready.port, migrationPsk(peer.secret, salt), dir, files, (n) => job.progress(Math.min(0.99, (done += n) / Math.max(1, total))), job.signal);
      const fin = await ch.call<{ id: string; name: string }>('offline-finish', { id: ready.id }, 10 * 60_000);
      made = null;
      job.progress(1);
      return { vm: fin.name, id: fin.id, host: peer.name, copied: !!o.copy, snapshots: meta.nodes.length, tpm: existsSync(entry.paths.tpmState), dropped };
    } catch (e) {
      if (made) await ch.call('offline-abort', { id: made }, 60_000).catch(() => {});
      if (job.signal.aborted) throw new VireoError('CANCELLED', `the move of "${config.name}" to ${peer.name} was cancelled: it stays here as it was, nothing is left on ${peer.name}`);
      throw e;
    } finally {
      ch.close();
    }
  });
}

const OfflineOffer = z.object({
  config: z.unknown(),
  files: z.array(z.object({ path: z.string().max(512), size: z.number().int().min(0).max(2 ** 50) })).max(10_000),
  salt: z.string().regex(/^[0-9a-f]{32,128}$/),
  copy: z.boolean(),
});

interface Landing {
  config: VmConfig;
  staging: string;
  done: Promise<void>;
  close(): void;
}

/** The target's side: a staging folder filled by the stream, installed by finish, removed by abort (or a lost source). */
export class OfflineLandings {
  private readonly landings = new Map<string, Landing>();
  constructor(private readonly p: EngineParts) {}

  async prepare(raw: Record<string, unknown>, ctx: { closed: AbortSignal; localAddress: string }) {
    const offer = OfflineOffer.parse(raw);
    const parsed = VmConfigSchema.safeParse(offer.config);
    if (!parsed.success) throw new VireoError('INVALID_ARGUMENT', `the VM's config is not one this host can read: ${parsed.error.issues[0]?.message ?? 'invalid'} (are both engines the same Vireo release?)`);
    let config = parsed.data;
    const refusals = offlineRefusals(config);
    if (refusals.length) throw new VireoError('UNSUPPORTED', `this host refuses "${config.name}": ${refusals.join('; ')}`, { reasons: refusals });
    const names = new Set(offer.files.map((f) => f.path));
    for (const d of config.disks) if (!safeRelative(d.file) || !names.has(d.file)) throw new VireoError('INVALID_ARGUMENT', `disk ${d.id} is not among the files sent`);
    if (offer.copy) config = { ...config, id: randomUUID(), networks: config.networks.map((n) => ({ ...n, mac: newMac() })), createdAt: new Date().toISOString() };
    const { library } = this.p;
    if (library.get(config.id) || this.landings.has(config.id)) throw new VireoError('ALREADY_EXISTS', `this host already has the VM ${config.id} ("${config.name}"): remove it here first, or copy instead`);
    library.checkName(config.name);
    const staging = join(library.vmsDir, `.creating-${config.id}`);
    await mkdir(staging, { recursive: true });
    try {
      const key = migrationPsk(await pairingSecret(this.p.home), offer.salt);
      const recv = await receiveFiles(ctx.localAddress, key, staging, offer.files);
      const landing: Landing = { config, staging, done: recv.done, close: recv.close };
      this.landings.set(config.id, landing);
      ctx.closed.addEventListener('abort', () => void this.abort(config.id));
      return { id: config.id, host: ctx.localAddress, port: recv.port };
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
  }

  async finish(id: string) {
    const l = this.landings.get(id);
    if (!l) throw new VireoError('NOT_FOUND', `no move of VM ${id} is under way here`);
    try {
      await l.done;
      const qemuImg = await this.p.host.qemuImg();
      const img = new QemuImg(qemuImg);
      // An image that names another file (a backing file, an external data file) would have
      // this host's QEMU open that file for the guest: whatever a peer sends must stand alone.
      const images = [...l.config.disks.map((d) => d.file), ...['nvram.qcow2', 'nvram.fd'].filter((f) => existsSync(join(l.staging, f)))];
      for (const f of images) {
        await checkDiskImage(join(l.staging, f), {
          field: `disk ${f}`,
          qemuImg,
          allowed: async (ref) => {
            throw new VireoError('PERMISSION_DENIED', `${f} as sent names another file (${ref}): a moved VM's images must stand alone; nothing was kept`);
          },
        });
      }
      for (const d of l.config.disks) {
        if (d.format !== 'qcow2') continue;
        const r = await img.check(join(l.staging, d.file));
        if (r.corruptions > 0 || r.checkErrors > 0) throw new VireoError('IO_ERROR', `disk ${d.id} arrived damaged (qemu-img check: ${r.corruptions} corruptions): nothing was kept, move it again`);
      }
      await mkdir(join(l.staging, 'logs'), { recursive: true });
      await writeConfig(join(l.staging, 'vm.json'), l.config);
      await rename(l.staging, this.p.library.paths(id).dir);
      this.landings.delete(id);
    } catch (e) {
      await this.abort(id);
      throw e;
    }
    const entry = await this.p.library.loadOne(id);
    this.p.bus.emit('vm.changed', { id });
    return { id, name: entry.config?.name ?? id };
  }

  async abort(id: string) {
    const l = this.landings.get(id);
    if (!l) return { removed: false };
    this.landings.delete(id);
    l.close();
    await rm(l.staging, { recursive: true, force: true });
    return { removed: true };
  }
}
