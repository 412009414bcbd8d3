import { join, resolve } from 'node:path';
import { stat, access, constants } from 'node:fs/promises';
import { totalmem, cpus as hostCpus } from 'node:os';
import { VireoError } from '../../api/errors.ts';
import { parseSize, formatBytes } from '../../api/schemas/common.ts';
import { VmConfigSchema } from '../../api/schemas/vm-config.ts';
import type { ParsedArgs } from '../../api/contract.ts';
import { baseConfig, type Library, type LibraryEntry } from '../library/library.ts';
import { mergePatch } from '../library/config-store.ts';
import type { HostService } from '../host.ts';
import type { Jobs } from '../jobs.ts';
import { defaultsForOs } from '../qemu/defaults.ts';
import { aarch64Defaults } from '../qemu/defaults-aarch64.ts';
import { resolveAccel } from '../qemu/accel.ts';
import { chooseFirmware, createNvram } from '../firmware/ovmf.ts';
import { QemuImg, isIso9660 } from '../disk/qemu-img.ts';
import { detectOs, getOs, type OsProfile } from '../osdetect/detect.ts';
import { applyUnattended, planUnattended } from '../unattended/prepare.ts';
import { installCloud, planCloud } from '../cloud/image.ts';
import { checkMinimums } from '../osdetect/minimums.ts';
import { V86_MAX_MEMORY_MIB } from '../../shared/v86-rules.ts';
import { checkV86Create, createRawDisk, v86ConfigPatch } from '../backend/v86/create.ts';

// A new VM: every argument checked against the host and the OS's minimums before anything
// touches the disk, then built in the library's staging folder (a job with progress) and
// renamed into place in one step, or not at all.

const MAX_DISK_BYTES = 64 * 1024 ** 4;

export interface CreateDeps {
  library: Library;
  host: HostService;
  jobs: Jobs;
}

export async function createVm(deps: CreateDeps, args: ParsedArgs<'vms.create'>): Promise<LibraryEntry> {
const { library, host, jobs } = deps;
  const name = library.checkName(args.name);
  const hostCpuCount = hostCpus().length;
  const hostMiB = Math.floor(totalmem() / 1024 ** 2);

  // Everything that can be checked is checked before anything touches the disk.
  let os: OsProfile | undefined;
  let iso: string | null = null;
  if (args.iso) {
    iso = resolve(args.iso);
    await requireIso(iso, { field: 'iso' });
  }
  if (args.os) {
    os = getOs(args.os);
    if (!os) throw new VireoError('INVALID_ARGUMENT', `unknown OS id "${args.os}": run \`vireo os list\` to see the ids`, { field: 'os' });
  }
  // The install media's architecture picks the guest's unless the caller named one.
  let mediaArch: string | undefined;
  // the firmware the disc can start (El Torito), when nobody named one
  let mediaFirmware: 'bios' | 'uefi' | undefined;
  if (iso) {
    const d = await detectOs(iso).catch(() => null);
    // the detection also when the caller named the detected OS: it keeps the release's own
    // name (a release newer than the OS list) and the disc's firmware
    if (d?.status === 'detected' && (!args.os || args.os === d.id)) os = d;
    mediaArch = d?.arch;
    if (d && (d.status === 'unknown' || os === d)) mediaFirmware = d.firmware;
  }
  const arch = args.arch ?? (mediaArch === 'aarch64' ? 'aarch64' : 'x86_64');
  if (args.arch && mediaArch && guestArchOf(mediaArch) !== args.arch) {
    throw new VireoError('INVALID_ARGUMENT', `the ISO is for ${guestArchOf(mediaArch)} but the VM was asked to be ${args.arch}: leave the architecture out (it follows the ISO) or choose ISO media for ${args.arch}`, { field: 'arch', mediaArch });
  }
  let importDisk: string | null = null;
  if (args.importDisk) {
    importDisk = resolve(args.importDisk);
    await requireReadableFile(importDisk, 'disk image');
  }
  // A cloud image is an imported disk plus a NoCloud seed (engine/cloud/image.ts).
  if (args.cloud && (iso || importDisk)) throw new VireoError('INVALID_ARGUMENT', 'a cloud image VM boots its image: leave out the ISO and the imported disk', { field: 'cloud' });
  const cloud = args.cloud ? await planCloud(args.cloud, name, args.disk !== undefined ? sizeArg(args.disk, 'G', 'disk') : 0, new QemuImg(await host.qemuImg())) : null;
  if (cloud) [importDisk, os] = [cloud.image, os ?? cloud.os];

  const rec = os?.recommended ?? { cpus: 2, memoryMiB: 2048, diskGiB: 20 };
  const min = os?.minimum ?? { cpus: 1, memoryMiB: 16, diskGiB: 0 };
  const cpus = args.cpus ?? Math.min(rec.cpus, hostCpuCount);
  if (!Number.isInteger(cpus) || cpus < 1) throw new VireoError('INVALID_ARGUMENT', `CPUs must be a whole number of at least 1 (got ${cpus})`, { field: 'cpus' });
  if (cpus > hostCpuCount) throw new VireoError('INVALID_ARGUMENT', `${cpus} CPUs is more than this host has (${hostCpuCount}): choose at most ${hostCpuCount}`, { field: 'cpus' });
  // by default never below what the OS's installer refuses (Windows 11: 4 GiB), if the host has it
  const floorMiB = Math.min(os?.requires?.memoryMiB ?? 0, hostMiB);
  const v86 = args.backend === 'wasm/v86';
  const byDefaultMiB = Math.max(floorMiB, Math.min(rec.memoryMiB, Math.floor(hostMiB / 2)));
  const memoryMiB = args.memory !== undefined ? sizeArg(args.memory, 'M', 'memory') / 1024 ** 2 : v86 ? Math.min(byDefaultMiB, V86_MAX_MEMORY_MIB) : byDefaultMiB;
  if (!Number.isInteger(memoryMiB)) throw new VireoError('INVALID_ARGUMENT', `memory must be a whole number of MiB (got ${memoryMiB} MiB)`, { field: 'memory' });
  if (memoryMiB < 16) throw new VireoError('INVALID_ARGUMENT', `memory ${memoryMiB} MiB is too small: give at least 16M`, { field: 'memory' });
  if (memoryMiB > hostMiB) throw new VireoError('INVALID_ARGUMENT', `memory ${formatBytes(memoryMiB * 1024 ** 2)} is more than this host has (${formatBytes(hostMiB * 1024 ** 2)}): choose less`, { field: 'memory' });
  const diskBytes = importDisk ? 0 : args.disk !== undefined ? sizeArg(args.disk, 'G', 'disk') : rec.diskGiB * 1024 ** 3;
  if (diskBytes > MAX_DISK_BYTES) throw new VireoError('INVALID_ARGUMENT', `disk size ${formatBytes(diskBytes)} is too large (at most 64 TiB)`, { field: 'disk' });
  // A v86 VM is one 32-bit PC run in the window: what it cannot have is refused here (backend/v86/create.ts).
  if (v86) checkV86Create(args, arch, memoryMiB);
  else if (args.accel && args.accel !== 'auto' && args.accel !== 'tcg') {
    const report = await host.accelReport(false, arch);
    resolveAccel(args.accel, report); // throws UNSUPPORTED with the reason when absent
  }
  const profile = args.profile ?? os?.profile ?? 'modern';
  // aarch64's virt machine boots only through UEFI.
  const firmware = args.firmware ?? (arch === 'aarch64' ? 'uefi' : v86 ? 'bios' : mediaFirmware ?? os?.firmware ?? 'bios');
  if (arch === 'aarch64' && firmware !== 'uefi') throw new VireoError('INVALID_ARGUMENT', 'aarch64 guests boot only through UEFI: set firmware to uefi (or leave it out)', { field: 'firmware' });
  const secureBoot = args.secureBoot ?? (firmware === 'uefi' && (os?.secureBoot ?? false));
  const tpm = args.tpm ?? (!v86 && (os?.tpm ?? false));
  if (secureBoot && firmware !== 'uefi') throw new VireoError('INVALID_ARGUMENT', 'Secure Boot needs UEFI firmware: set firmware to uefi', { field: 'secureBoot' });
  // An express install: everything it needs checked now, its answer files written in staging (unattended/prepare.ts).
  const express = args.unattended ? await planUnattended({ answers: args.unattended, osId: os?.id, iso, arch, firmware, resourcesDir: host.resourcesDir }) : null;
  // Only what the OS's installer refuses is refused; the rest of its minimums are warnings
  // (VmDetails.warnings, from the created config).
  if (os) {
    const refused = checkMinimums({ ...os, minimum: min }, { memoryMiB, diskBytes: importDisk || diskBytes === 0 ? null : diskBytes, firmware, tpm }).refusals[0];
    if (refused) throw new VireoError('INVALID_ARGUMENT', refused.message, { field: refused.field });
  }

  // v86 needs no QEMU (it is the backend offered when none is installed): no qemu-img for it.
  const img = v86 ? null : new QemuImg(await host.qemuImg());
  const fwList = firmware === 'uefi' ? await host.firmwareList(arch) : [];

  const title = `Create VM "${name}"`;
  return jobs.run({ kind: importDisk ? 'import' : 'create', title, cancellable: true }, (job) =>
    library.create(name, async (staging, id) => {
      const base = baseConfig(id, name);
      const pcDefaults = defaultsForOs({ family: os?.family ?? 'other', id: os?.id ?? 'unknown', profile, firmware, secureBoot, tpm });
      const defaults = arch === 'aarch64' ? mergePatch(pcDefaults, aarch64Defaults(os?.family ?? 'other')) : pcDefaults;
      const merged = mergePatch(mergePatch(base, defaults), {
        arch,
        os: { id: os?.id ?? 'unknown', name: os?.name ?? 'Unknown OS', family: os?.family ?? 'other' },
        profile: arch === 'aarch64' ? 'modern' : profile,
        system: { cpus, memoryMiB, firmware, secureBoot, tpm, ...(args.accel ? { accel: args.accel } : {}) },
        cdrom: { iso },
        boot: { order: iso ? ['cdrom', 'disk'] : ['disk', 'cdrom'] },
      }) as Record<string, unknown>;
      const config = VmConfigSchema.parse(v86 ? mergePatch(merged, v86ConfigPatch(memoryMiB, diskBytes > 0)) : merged);
      if (v86) {
        if (diskBytes > 0) await createRawDisk(join(staging, 'disk0.img'), diskBytes);
        job.progress(1);
        return config;
      }
      const bus = config.disks[0]?.bus ?? (profile === 'legacy' ? 'ide' : 'virtio');
      if (importDisk) {
        // The copy is nearly all of the job: its share of the image's size is the bytes done.
        job.bytes(await img!.info(importDisk).then((i) => i.virtualSize, () => null));
        await img!.convert(importDisk, join(staging, 'disk0.qcow2'), { toFormat: 'qcow2', onProgress: (f) => job.progress(f), signal: job.signal });
      } else if (diskBytes > 0) {
        await img!.create(join(staging, 'disk0.qcow2'), { format: 'qcow2', sizeBytes: diskBytes });
      }
      config.disks = importDisk || diskBytes > 0 ? [{ id: 'disk0', file: 'disk0.qcow2', format: 'qcow2', bus, readOnly: false, cache: 'writeback', discard: true }] : [];
      if (cloud) await installCloud(cloud, staging, img!, config, job.signal);
      if (firmware === 'uefi') {
        const fw = chooseFirmware(fwList, { machine: config.system.machine, secureBoot });
        await createNvram(fw, staging, await host.qemuImg(), { arch });
      }
      job.progress(1);
      return express ? applyUnattended(express, config, staging, library.paths(id).dir, host.resourcesDir) : config;
    }),
  );
}

function sizeArg(v: string | number, unit: 'M' | 'G', field: string): number {
  try {
    return parseSize(v, unit);
  } catch (e) {
    throw new VireoError('INVALID_ARGUMENT', `${field}: ${(e as Error).message}`, { field });
  }
}

/** An existing, readable ISO 9660 image, or an error saying which of those it is not. */
export async function requireIso(p: string, details: Record<string, unknown>) {
  await requireReadableFile(p, 'ISO');
  if (!(await isIso9660(p))) {
    throw new VireoError('INVALID_ARGUMENT', `${p} is not an ISO 9660 image (no CD001 signature at sector 16): choose an install ISO`, details);
  }
}

async function requireReadableFile(p: string, what: string) {
  let st;
  try {
    st = await stat(p);
  } catch {
    throw new VireoError('NOT_FOUND', `${what} file ${p} does not exist: check the path`, { path: p });
  }
  if (!st.isFile()) throw new VireoError('INVALID_ARGUMENT', `${p} is not a file: choose a ${what} file`, { path: p });
  await access(p, constants.R_OK).catch(() => {
    throw new VireoError('INVALID_ARGUMENT', `${p} cannot be read: check its permissions`, { path: p });
  });
}

/** i686 media install x86_64 guests too (QEMU's x86_64 emulator runs both). */
function guestArchOf(mediaArch: string): 'x86_64' | 'aarch64' {
  return mediaArch === 'aarch64' ? 'aarch64' : 'x86_64';
}
