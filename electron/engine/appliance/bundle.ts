import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import tar from 'tar-stream';
import { VireoError } from '../../api/errors.ts';
import { VmConfigSchema, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { ApplianceExport } from '../../api/appliance-types.ts';
import type { EngineParts } from '../parts.ts';
import type { LibraryEntry } from '../library/library.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { digestFile } from './manifest.ts';
import { extractOva, writeTar, type PackMember } from './tar.ts';
import { emptySpec, type ApplianceSpec } from './spec.ts';

// Vireo's own bundle (.vireo): a tar whose first member, vireo-bundle.json, holds the VM's
// config and the SHA256 of every other member: the disks as they are (qcow2 with their
// internal snapshots), the snapshot tree's metadata and thumbnails, NVRAM and TPM state. On
// another host it becomes the same VM with a new id; nothing else is rewritten.

const MANIFEST = 'vireo-bundle.json';
/** A bundle member: a file of the VM folder, or one in its tpm/ or thumbnails/ folder (flattened with "__"). */
const MEMBER = /^(tpm__|thumbnails__)?[A-Za-z0-9_][A-Za-z0-9_.+-]{0,200}$/;
const SKIP = new Set(['vm.json', 'linked-clones.json', 'logs']);

interface BundleManifest {
  format: 'vireo-bundle';
  version: 1;
  config: VmConfig;
  files: Array<{ name: string; sizeBytes: number; sha256: string }>;
}

async function vmFiles(entry: LibraryEntry): Promise<Array<{ name: string; path: string }>> {
  const out: Array<{ name: string; path: string }> = [];
  for (const n of await readdir(entry.paths.dir)) {
    if (SKIP.has(n) || n.startsWith('.')) continue;
    const p = join(entry.paths.dir, n);
    const st = await stat(p);
    if (st.isFile()) out.push({ name: n, path: p });
    else if (st.isDirectory() && (n === 'tpm' || n === 'thumbnails')) {
      for (const m of await readdir(p)) if ((await stat(join(p, m))).isFile() && !m.startsWith('.')) out.push({ name: `${n}__${m}`, path: join(p, m) });
    }
  }
  return out.filter((f) => MEMBER.test(f.name));
}

export async function exportBundle(entry: LibraryEntry, p: EngineParts, out: string, o: { signal: AbortSignal; onProgress: (f: number) => void }): Promise<ApplianceExport['files']> {
  const c = entry.config!;
  const img = new QemuImg(await p.host.qemuImg());
  for (const d of c.disks) {
    if (isAbsolute(d.file)) throw new VireoError('UNSUPPORTED', `disk ${d.id} of "${c.name}" is kept outside its folder (${d.file}): a bundle carries the VM folder only; remove that disk or copy it in first (vireo drive)`, { disk: d.id });
    const info = await img.info(p.vms.diskPath(entry, d.file));
    if (info.backingFile) throw new VireoError('UNSUPPORTED', `disk ${d.id} of "${c.name}" is an overlay on ${info.backingFile} (a linked clone or a throwaway VM): make a full clone first and export that`, { disk: d.id });
  }
  const files = await vmFiles(entry);
  const sums: BundleManifest['files'] = [];
  for (const f of files) sums.push({ name: f.name, sizeBytes: (await stat(f.path)).size, sha256: (await digestFile(f.path, o.signal)).sha256 });
  const manifest: BundleManifest = { format: 'vireo-bundle', version: 1, config: c, files: sums };
  const members: PackMember[] = [{ name: MANIFEST, data: Buffer.from(JSON.stringify(manifest, null, 2)) }, ...files];
  await writeTar(out, members, o);
  return sums.map((s) => ({ name: s.name, sizeBytes: s.sizeBytes, sha256: s.sha256 }));
}

/** The bundle's manifest (its first member) and what the import will make of it. */
export async function readBundleManifest(path: string): Promise<{ manifest: BundleManifest; spec: ApplianceSpec }> {
  const ex = tar.extract();
  const src = createReadStream(path);
  src.pipe(ex);
  let text: string | null = null;
  try {
    for await (const entry of ex) {
      if (entry.header.name !== MANIFEST || (entry.header.size ?? 0) > 4 * 1024 ** 2) break;
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
      break;
    }
  } catch (e) {
    throw new VireoError('INVALID_ARGUMENT', `${basename(path)} is not a readable Vireo bundle (tar): ${(e as Error).message}`, { path });
  } finally {
    src.destroy();
    ex.destroy();
  }
  if (!text) throw new VireoError('INVALID_ARGUMENT', `${basename(path)} is not a Vireo bundle: its first member is not ${MANIFEST}`, { path });
  let m: BundleManifest;
  try {
    m = JSON.parse(text) as BundleManifest;
    if (m.format !== 'vireo-bundle' || m.version !== 1 || !Array.isArray(m.files)) throw new Error(`format ${m.format} version ${m.version}`);
    m.config = VmConfigSchema.parse(m.config);
    for (const f of m.files) if (!MEMBER.test(f.name) || !/^[0-9a-f]{64}$/.test(f.sha256)) throw new Error(`bad member entry ${JSON.stringify(f.name)}`);
  } catch (e) {
    throw new VireoError('INVALID_ARGUMENT', `${MANIFEST} in ${basename(path)} is not a Vireo bundle manifest this version reads (${(e as Error).message.split('\n')[0]}): export it again with this Vireo`, { path });
  }
  const c = m.config;
  const spec = emptySpec(c.name);
  Object.assign(spec, {
    os: c.os,
    cpus: c.system.cpus,
    memoryMiB: c.system.memoryMiB,
    firmware: c.system.firmware,
    disks: c.disks.map((d) => ({ source: d.file, bus: d.bus, capacityBytes: null })),
    nics: c.networks.map((n) => ({ model: n.model, mode: n.mode === 'none' ? 'none' : 'user', mac: n.mac })),
  });
  spec.mapped.push({ item: 'whole VM', value: `${m.files.length} files`, note: 'a Vireo bundle: config, disks with their snapshots, NVRAM and TPM state as they were' });
  for (const [what, on] of [['extra QEMU arguments', c.advanced.extraArgs.length > 0], ['shared folders', c.shares.length > 0], ['USB passthrough', c.usb.some((u) => u.kind === 'host' || u.kind === 'storage')], ['CD ISOs', !!c.cdrom.iso || c.cdrom.extra.some((e) => e.iso)]] as const) {
    if (on) spec.dropped.push({ item: what, value: 'host-specific', note: "they name this host's files or devices: set them again on the new host" });
  }
  return { manifest: m, spec };
}

export async function importBundle(path: string, staging: string, id: string, name: string, o: { signal: AbortSignal; onProgress: (f: number) => void }): Promise<VmConfig> {
  const { manifest: m } = await readBundleManifest(path);
  const digests = await extractOva(path, staging, o);
  for (const f of m.files) {
    const d = digests.get(f.name);
    if (!d) throw new VireoError('INVALID_ARGUMENT', `${basename(path)} lacks ${f.name}, which its manifest lists: the bundle is incomplete, export it again`, { file: f.name });
    if (d.sha256 !== f.sha256) throw new VireoError('INVALID_ARGUMENT', `${f.name} in ${basename(path)} does not match its SHA256 in ${MANIFEST}: the bundle is damaged, nothing was imported`, { file: f.name, reason: 'digest-mismatch' });
  }
  for (const n of digests.keys()) if (n !== MANIFEST && !m.files.some((f) => f.name === n)) throw new VireoError('INVALID_ARGUMENT', `${basename(path)} holds ${n}, which its manifest does not list: nothing was imported`, { file: n });
  await rm(join(staging, MANIFEST), { force: true });
  for (const n of digests.keys()) {
    const mm = /^(tpm|thumbnails)__(.+)$/.exec(n);
    if (!mm) continue;
    await mkdir(join(staging, mm[1]!), { recursive: true, mode: 0o700 });
    await rename(join(staging, n), join(staging, mm[1]!, mm[2]!));
  }
  const c = m.config;
  // Every disk is a file of the bundle: a config naming a host path (/dev/sda, ~/.ssh/id_rsa) as a disk is refused.
  for (const d of c.disks) {
    if (!MEMBER.test(d.file) || d.file.startsWith('tpm__') || d.file.startsWith('thumbnails__') || !m.files.some((f) => f.name === d.file)) {
      throw new VireoError('INVALID_ARGUMENT', `disk ${d.id} of the bundle names ${d.file.slice(0, 200)}, which is not a file of the bundle: a bundle's disks travel inside it; nothing was imported`, { disk: d.id, file: d.file });
    }
  }
  // Host-specific settings stay behind (they name the other host's files and devices).
  return VmConfigSchema.parse({
    ...c,
    id,
    name,
    disposable: null,
    cdrom: { ...c.cdrom, iso: null, extra: c.cdrom.extra.map((e) => ({ ...e, iso: null })) },
    shares: [],
    usb: c.usb.filter((u) => u.kind === 'keyboard' || u.kind === 'mouse'),
    advanced: { ...c.advanced, extraArgs: [] },
    unattended: null,
    cloudInit: null,
  });
}
