import { cpus, totalmem, arch, platform } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { VireoError, toWireError } from '../api/errors.ts';
import type { AccelReport, ArchHostInfo, FirmwareSummary, HostInfo } from '../api/types.ts';
import { discoverQemu, type DiscoveredQemu } from './qemu/discover.ts';
import { probeCapabilities, type QemuCaps } from './qemu/capabilities.ts';
import { selfTestAccelerators } from './qemu/accel.ts';
import { discoverFirmware, type FirmwareInfo } from './firmware/ovmf.ts';
import { checkSwtpm, SWTPM_INSTALL_HINT } from './tpm/swtpm.ts';
import { passtAvailability } from './net/nat/plan.ts';
import { APP_VERSION } from './version.ts';
import { ARCH_INFO, DEFAULT_ARCH, nativeGuestArch, type GuestArch } from './arch.ts';
import { ARCHES } from '../shared/config-enums.ts';

// What this host offers, asked once and kept: which QEMU, what it can do, which accelerator
// really works (a timed self-test, not mere presence), which firmware and TPM are there.

export interface HostOptions {
  home: string;
  resourcesDir: string;
  qemuSetting?: string;
}

/** One cached answer per key; a failure is forgotten so a later install is picked up. */
class Memo<K, V> {
  private readonly map = new Map<K, Promise<V>>();
  async get(key: K, make: () => Promise<V>): Promise<V> {
    let p = this.map.get(key);
    if (!p) this.map.set(key, (p = make()));
    try {
      return await p;
    } catch (e) {
      if (this.map.get(key) === p) this.map.delete(key);
      throw e;
    }
  }
  clear() {
    this.map.clear();
  }
}

export class HostService {
  // One QEMU per guest architecture: qemu-system-x86_64 for x86_64 guests, and so on.
  private readonly qemu = new Memo<GuestArch, DiscoveredQemu>();
  private readonly caps = new Memo<GuestArch, QemuCaps>();
  private readonly firmware = new Memo<GuestArch, FirmwareInfo[]>();
  private readonly accel = new Map<GuestArch, Promise<AccelReport>>();

  constructor(private readonly opts: HostOptions) {}

  /** the app's resources folder (OS table, probe image, answer-file templates) */
  get resourcesDir(): string {
    return this.opts.resourcesDir;
  }

  get cacheDir() {
    return join(this.opts.home, 'cache');
  }

  qemuBinary(arch: GuestArch = DEFAULT_ARCH): Promise<DiscoveredQemu> {
    // VIREO_QEMU: the x86_64 QEMU path setting for a whole engine (tests hide QEMU with a path that is none).
    const setting = arch === DEFAULT_ARCH ? (this.opts.qemuSetting ?? process.env.VIREO_QEMU) : undefined;
    return this.qemu.get(arch, () => discoverQemu({ setting, resourcesDir: this.opts.resourcesDir, guestArch: arch }));
  }

  async qemuImg(): Promise<string> {
    const q = await this.qemuBinary().catch(() => null);
    return q?.imgBinary ?? 'qemu-img';
  }

  capabilities(arch: GuestArch = DEFAULT_ARCH): Promise<QemuCaps> {
    return this.caps.get(arch, async () => probeCapabilities((await this.qemuBinary(arch)).binary, { cacheFile: join(this.cacheDir, 'qemu-caps.json'), arch }));
  }

  probeImage(arch: GuestArch = DEFAULT_ARCH): string {
    const p = join(this.opts.resourcesDir, ARCH_INFO[arch].probeImage);
    if (!existsSync(p)) throw new VireoError('INTERNAL', `the accelerator self-test image is missing (${p}): reinstall Vireo`);
    return p;
  }

  /** The self-test verdict for guests of one architecture (each has its own QEMU and probe guest). */
  async accelReport(force = false, arch: GuestArch = DEFAULT_ARCH): Promise<AccelReport> {
    if (force) this.accel.delete(arch);
    let p = this.accel.get(arch);
    if (!p) {
      const q = await this.qemuBinary(arch);
      const caps = await this.capabilities(arch);
      p = selfTestAccelerators({
        binary: q.binary,
        caps,
        probeImage: this.probeImage(arch),
        cacheFile: join(this.cacheDir, 'accel.json'),
        force,
        arch,
      });
      this.accel.set(arch, p);
    }
    try {
      return await p;
    } catch (e) {
      if (this.accel.get(arch) === p) this.accel.delete(arch);
      throw e;
    }
  }

  /** One guest architecture's QEMU, accelerator verdict and firmware, for `host.info`'s arches. */
  async archInfo(arch: GuestArch, refresh = false): Promise<ArchHostInfo> {
    let qemu: HostInfo['qemu'];
    let accel: AccelReport | null = null;
    try {
      const q = await this.qemuBinary(arch);
      const caps = await this.capabilities(arch);
      qemu = { found: true, binary: q.binary, imgBinary: q.imgBinary, version: caps.version, source: q.source, accels: caps.accels };
      accel = await this.accelReport(refresh, arch).catch(() => null);
    } catch (e) {
      qemu = { found: false, error: toWireError(e) };
    }
    const fw = await this.firmwareList(arch).catch(() => [] as FirmwareInfo[]);
    return { arch, native: nativeGuestArch() === arch, qemu, accel, firmware: fw.map(summarizeFirmware) };
  }

  firmwareList(arch: GuestArch = DEFAULT_ARCH): Promise<FirmwareInfo[]> {
    return this.firmware.get(arch, () => discoverFirmware({ platform: process.platform, arch }));
  }

  async info(refresh = false): Promise<HostInfo> {
    if (refresh) {
      this.qemu.clear();
      this.caps.clear();
      this.firmware.clear();
    }
    const base = {
      appVersion: APP_VERSION,
      platform: platform(),
      arch: arch(),
      cpus: cpus().length,
      memoryBytes: totalmem(),
      home: this.opts.home,
    };
    let qemu: HostInfo['qemu'];
    let accel: AccelReport | null = null;
    try {
      const q = await this.qemuBinary();
      const caps = await this.capabilities();
      qemu = { found: true, binary: q.binary, imgBinary: q.imgBinary, version: caps.version, source: q.source, accels: caps.accels };
      accel = await this.accelReport(refresh).catch(() => null);
    } catch (e) {
      qemu = { found: false, error: toWireError(e) };
    }
    const fw = await this.firmwareList().catch(() => [] as FirmwareInfo[]);
    const arches: ArchHostInfo[] = [{ arch: DEFAULT_ARCH, native: nativeGuestArch() === DEFAULT_ARCH, qemu, accel, firmware: fw.map(summarizeFirmware) }];
    // After x86_64's, not beside it: a self-test started alongside would slow x86_64's TCG run,
    // and its hardware deadline (a multiple of that run) with it. On a host of one architecture
    // the other's test is one short TCG run.
    for (const a of ARCHES) if (a !== DEFAULT_ARCH) arches.push(await this.archInfo(a, refresh));
    const swtpm = await checkSwtpm().catch(() => null);
    return {
      ...base,
      qemu,
      accel,
      firmware: fw.map(summarizeFirmware),
      arches,
      tpm: swtpm
        ? { available: true, binary: 'swtpm', version: swtpm }
        : { available: false, reason: `swtpm is not installed: ${SWTPM_INSTALL_HINT}` },
      passt: await passtAvailability(refresh),
    };
  }
}

function summarizeFirmware(f: FirmwareInfo): FirmwareSummary {
  return {
    description: f.description,
    code: f.code,
    vars: f.varsTemplate,
    features: f.features,
    secureBoot: f.secureBoot,
    enrolledKeys: f.enrolledKeys,
    requiresSmm: f.requiresSmm,
  };
}
