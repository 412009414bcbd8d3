import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve as resolvePath } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Caller } from '../../api/define.ts';
import type { AppliancePreview, ApplianceExport, ApplianceKind } from '../../api/appliance-types.ts';
import type { VmDetails } from '../../api/types.ts';
import type { EngineParts } from '../parts.ts';
import type { JobContext } from '../jobs.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { partialName } from '../disk/convert.ts';
import { checkDiskImage } from '../policy/disk-image.ts';
import { refused } from '../policy/refused.ts';
import { chooseFirmware, createNvram } from '../firmware/ovmf.ts';
import { requireState } from '../vm/state-machine.ts';
import { run } from '../util/proc.ts';
import { readOvf } from './ovf-read.ts';
import { writeOvf, type OvfDiskOut } from './ovf-write.ts';
import { digestFile, formatManifest, parseManifest, verifyManifest, type DigestAlgo } from './manifest.ts';
import { checkMemberName, extractOva, readOvaDescriptor, writeTar } from './tar.ts';
import { readVboxFile } from './vbox-file.ts';
import { readUtmBundle } from './utm.ts';
import { specToConfig, type ApplianceSpec } from './spec.ts';
import { baseConfig } from '../library/library.ts';
import { exportBundle, importBundle, readBundleManifest } from './bundle.ts';

// Appliances in and out of the library. Import: read the package into an ApplianceSpec
// (preview: what was mapped, what was dropped), then as one job inside the library's staging
// folder (extract, verify the manifest, convert every disk to qcow2, write the config), which
// is renamed into place at the end or removed: a cancelled or failed import leaves no VM and
// no files. Export: OVA (OVF 1.0 + streamOptimized VMDKs + SHA256 manifest) or Vireo's bundle.

interface Read {
  kind: ApplianceKind;
  spec: ApplianceSpec;
  /** the manifest an import verifies, when there is one */
  manifest: string | null;
}

export function kindOf(path: string): ApplianceKind {
  const ext = extname(path).toLowerCase();
  if (ext === '.ova') return 'ova';
  if (ext === '.ovf') return 'ovf';
  if (ext === '.vbox') return 'vbox';
  if (ext === '.utm') return 'utm';
  if (ext === '.vireo') return 'bundle';
  throw new VireoError('INVALID_ARGUMENT', `${basename(path)} is not an appliance Vireo imports: give an .ova, an .ovf, a VirtualBox .vbox file, a UTM .utm folder or a Vireo bundle (.vireo)`, { field: 'path', path });
}

export class ApplianceService {
  constructor(private readonly p: EngineParts) {}

  private async qemuImg() {
    return this.p.host.qemuImg();
  }

  private async read(path: string, caller: Caller): Promise<Read> {
    const kind = kindOf(path);
    switch (kind) {
      case 'ova': {
        const d = await readOvaDescriptor(path);
        return { kind, spec: readOvf(d.xml, d.name).spec, manifest: d.manifest };
      }
      case 'ovf': {
        const xml = await readFile(path, 'utf8');
        const mf = join(dirname(path), `${basename(path, extname(path))}.mf`);
        const hasMf = await stat(mf).then((s) => s.isFile(), () => false);
        const { spec } = readOvf(xml, basename(path));
        // Every file it names must be one a web caller may read.
        for (const d of spec.disks) await this.p.confine.existingFile(caller, join(dirname(path), checkMemberName(d.source, basename(path))), 'path', 'disk of the appliance');
        return { kind, spec, manifest: hasMf ? basename(mf) : null };
      }
      case 'vbox': {
        const r = await readVboxFile(path);
        for (const d of r.spec.disks) await this.p.confine.existingFile(caller, d.source, 'path', 'disk of the VirtualBox machine');
        return { kind, spec: r.spec, manifest: null };
      }
      case 'bundle': {
        const b = await readBundleManifest(path);
        return { kind, spec: b.spec, manifest: 'vireo-bundle.json' };
      }
      case 'utm': {
        const r = await readUtmBundle(path);
        for (const d of r.spec.disks) await this.p.confine.existingFile(caller, d.source, 'path', 'disk of the UTM virtual machine');
        return { kind, spec: r.spec, manifest: null };
      }
    }
  }

  async preview(path: string, caller: Caller): Promise<AppliancePreview> {
    const { kind, spec, manifest } = await this.read(path, caller);
    return {
      path,
      kind,
      name: spec.name,
      os: spec.os,
      cpus: spec.cpus,
      memoryMiB: spec.memoryMiB,
      firmware: spec.firmware,
      disks: spec.disks.map((d) => ({ source: d.source, bus: d.bus, capacityBytes: d.capacityBytes })),
      nics: spec.nics.map((n) => ({ ...n })),
      mapped: spec.mapped,
      dropped: spec.dropped,
      manifest,
    };
  }

  async import(path: string, o: { name?: string }, caller: Caller): Promise<VmDetails> {
    const first = await this.read(path, caller);
    const name = this.p.library.checkName(o.name ?? first.spec.name);
    const qemuImg = await this.qemuImg();
    const img = new QemuImg(qemuImg);
    const fwList = first.spec.firmware === 'uefi' || first.spec.vireo?.system?.firmware === 'uefi' ? await this.p.host.firmwareList('x86_64') : [];
    const entry = await this.p.jobs.run({ kind: 'import', title: `Import ${basename(path)} as "${name}"`, cancellable: true }, (job) =>
      this.p.library.create(name, async (staging, id) => {
        if (first.kind === 'bundle') {
          const config = await importBundle(path, staging, id, name, { signal: job.signal, onProgress: (f) => job.progress(f) });
          // A web client's bundle passes the same policy as its settings changes (vms.update).
          await this.p.confine.vmConfig(caller, staging, baseConfig(id, name), config);
          return config;
        }
        const work = join(staging, '.appliance');
        await mkdir(work, { recursive: true });
        const { spec, sources } = await this.fetchVerified(path, first, work, job, caller);
        const files: string[] = [];
        const share = 0.55 / Math.max(1, sources.length);
        for (const [i, src] of sources.entries()) {
          const format = await checkDiskImage(src, {
            field: 'path',
            qemuImg,
            allowed: async (ref) => {
              throw refused(`disk ${basename(src)} of the appliance refers to another file (${ref}): an appliance's disks must be self-contained; nothing was imported`, { file: basename(src) });
            },
          });
          const file = `disk${i}.qcow2`;
          await img.convert(src, join(staging, file), { fromFormat: format, toFormat: 'qcow2', signal: job.signal, onProgress: (f) => job.progress(0.4 + (i + f) * share) });
          files.push(file);
          // The extracted VMDK is not needed once converted: half the space back at once.
          if (src.startsWith(work)) await rm(src, { force: true });
        }
        await rm(work, { recursive: true, force: true });
        const config = specToConfig(spec, id, name, files);
        if (config.system.firmware === 'uefi') {
          const fw = chooseFirmware(fwList, { machine: config.system.machine, secureBoot: config.system.secureBoot });
          await createNvram(fw, staging, qemuImg, { arch: config.arch });
        }
        job.progress(1);
        return config;
      }),
    );
    this.p.vms.machineFor(entry);
    this.p.bus.emit('vm.changed', { id: entry.id });
    return this.p.vms.details(entry.id);
  }

  /** The package's disks as local files, every byte checked against the manifest first. */
  private async fetchVerified(path: string, first: Read, work: string, job: JobContext, caller: Caller): Promise<{ spec: ApplianceSpec; sources: string[] }> {
    if (first.kind === 'ova') {
      const digests = await extractOva(path, work, { signal: job.signal, onProgress: (f) => job.progress(f * 0.4) });
      const names = [...digests.keys()];
      const ovfName = names.find((n) => /\.ovf$/i.test(n))!;
      const mfs = names.filter((n) => /\.mf$/i.test(n));
      // The descriptor as extracted (and verified), not the one the preview read.
      const { spec } = readOvf(await readFile(join(work, ovfName), 'utf8'), ovfName);
      const hrefs = spec.disks.map((d) => checkMemberName(d.source, basename(path)));
      for (const h of hrefs) if (!digests.has(h)) throw new VireoError('INVALID_ARGUMENT', `${basename(path)} does not hold ${h}, which its descriptor names as a disk: the package is incomplete`, { file: h });
      const mf = mfs.find((n) => n.replace(/\.mf$/i, '') === ovfName.replace(/\.ovf$/i, '')) ?? mfs[0];
      if (mf) verifyManifest(parseManifest(await readFile(join(work, mf), 'utf8'), mf), digests, mf, [ovfName, ...hrefs]);
      return { spec, sources: hrefs.map((h) => join(work, h)) };
    }
    if (first.kind === 'ovf') {
      const dir = dirname(path);
      const ovfName = basename(path);
      const { spec } = readOvf(await readFile(path, 'utf8'), ovfName);
      const sources: string[] = [];
      for (const d of spec.disks) sources.push(await this.p.confine.existingFile(caller, join(dir, checkMemberName(d.source, ovfName)), 'path', 'disk of the appliance'));
      if (first.manifest) {
        const entries = parseManifest(await readFile(join(dir, first.manifest), 'utf8'), first.manifest);
        const digests = new Map<string, Record<DigestAlgo, string>>();
        for (const e of entries) {
          const f = join(dir, checkMemberName(e.file, first.manifest));
          const d = await digestFile(f, job.signal).catch(() => null);
          if (d) digests.set(e.file, d);
        }
        verifyManifest(entries, digests, first.manifest, [ovfName, ...spec.disks.map((d) => d.source)]);
      }
      return { spec, sources };
    }
    // .vbox, .utm: the disks where VirtualBox or UTM keeps them, read in place.
    const r = first.kind === 'utm' ? await readUtmBundle(path) : await readVboxFile(path);
    const sources: string[] = [];
    for (const d of r.spec.disks) sources.push(await this.p.confine.existingFile(caller, d.source, 'path', 'disk of the appliance'));
    return { spec: r.spec, sources };
  }

  async export(ref: string, format: 'ova' | 'bundle', output: string, caller: Caller): Promise<ApplianceExport> {
    const entry = this.p.vms.resolve(ref);
    const c = entry.config;
    if (!c) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be exported: ${entry.broken}`, { id: entry.id });
    requireState('export', c.name, this.p.vms.machineFor(entry).state, ['stopped', 'crashed']);
    const out = await this.p.confine.newFile(caller, resolvePath(output), 'output');
    const want = format === 'ova' ? '.ova' : '.vireo';
    if (extname(out).toLowerCase() !== want) throw new VireoError('INVALID_ARGUMENT', `output ${basename(out)}: a ${format === 'ova' ? 'OVA' : 'Vireo bundle'} file's name ends in ${want}`, { field: 'output' });
    if (await stat(out).then(() => true, () => false)) throw new VireoError('ALREADY_EXISTS', `${out} already exists: choose another file name (an export never overwrites)`, { field: 'output', path: out });
    const temps: string[] = [];
    const tmpOut = partialName(out);
    try {
      const files = await this.p.jobs.run({ kind: 'export', title: `Export "${c.name}" to ${basename(out)}`, vmId: entry.id, cancellable: true }, async (job) => {
        await job.leftover(tmpOut);
        temps.push(tmpOut);
        if (format === 'bundle') return exportBundle(entry, this.p, tmpOut, { signal: job.signal, onProgress: (f) => job.progress(f) });
        return this.writeOva(entry.id, tmpOut, out, temps, job);
      });
      await rename(tmpOut, out);
      const st = await stat(out);
      return { path: out, format, sizeBytes: st.size, files };
    } finally {
      for (const t of temps) await rm(t, { force: true });
    }
  }

  private async writeOva(id: string, tmpOut: string, out: string, temps: string[], job: JobContext): Promise<ApplianceExport['files']> {
    const entry = this.p.vms.resolve(id);
    const c = entry.config!;
    const qemuImg = await this.qemuImg();
    const img = new QemuImg(qemuImg);
    const stem = basename(out, extname(out)).replace(/[^A-Za-z0-9_.+-]+/g, '_') || 'vm';
    // Writable disks in the VM folder are the machine; a shared read-only image kept elsewhere (an installer) is not.
    const disks = c.disks.filter((d) => !d.readOnly);
    const vmdks: OvfDiskOut[] = [];
    const share = 0.8 / Math.max(1, disks.length);
    for (const [i, d] of disks.entries()) {
      const src = this.p.vms.diskPath(entry, d.file);
      const tmp = partialName(join(dirname(out), `${stem}-disk${i + 1}.vmdk`));
      await job.leftover(tmp);
      temps.push(tmp);
      const info = await img.info(src);
      await run(qemuImg, ['convert', '-p', '-f', d.format, '-O', 'vmdk', '-o', 'subformat=streamOptimized', src, tmp], {
        signal: job.signal,
        timeoutMs: 24 * 3600_000,
        hint: `check that ${src} is readable and that ${dirname(out)} has space`,
        onStdout: (s) => {
          const m = /\((\d+(?:\.\d+)?)\/100%\)/.exec(s);
          if (m) job.progress((i + Number(m[1]) / 100) * share);
        },
      });
      vmdks.push({ file: `${stem}-disk${i + 1}.vmdk`, sizeBytes: (await stat(tmp)).size, capacityBytes: info.virtualSize });
    }
    const ovfName = `${stem}.ovf`;
    const ovf = Buffer.from(writeOvf(c, vmdks));
    const sums = [{ file: ovfName, sha256: createHash('sha256').update(ovf).digest('hex'), sizeBytes: ovf.length }];
    for (const [i, v] of vmdks.entries()) sums.push({ file: v.file, sha256: (await digestFile(temps[i + 1]!, job.signal)).sha256, sizeBytes: v.sizeBytes });
    const mf = Buffer.from(formatManifest(sums));
    await writeTar(tmpOut, [{ name: ovfName, data: ovf }, { name: `${stem}.mf`, data: mf }, ...vmdks.map((v, i) => ({ name: v.file, path: temps[i + 1]! }))], {
      signal: job.signal,
      onProgress: (f) => job.progress(0.8 + f * 0.2),
    });
    return sums.map((s) => ({ name: s.file, sizeBytes: s.sizeBytes, sha256: s.sha256 }));
  }
}
