import { cpus, totalmem, arch, platform } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { VireoError, toWireError } from '../api/errors.ts';
import type { AccelReport, FirmwareSummary, HostInfo } from '../api/types.ts';
import { discoverQemu, type DiscoveredQemu } from './qemu/discover.ts';
import { probeCapabilities, type QemuCaps } from './qemu/capabilities.ts';
import { selfTestAccelerators } from './qemu/accel.ts';
import { discoverFirmware, type FirmwareInfo } from './firmware/ovmf.ts';
import { checkSwtpm, SWTPM_INSTALL_HINT } from './tpm/swtpm.ts';
import { APP_VERSION } from './version.ts';

// What this host offers, asked once and kept: which QEMU, what it can do, which accelerator
// really works (a timed self-test, not mere presence), which firmware and TPM are there.

export interface HostOptions {
  home: string;
  resourcesDir: string;
  qemuSetting?: string;
}

export class HostService {
  private qemu: Promise<DiscoveredQemu> | null = null;
  private caps: Promise<QemuCaps> | null = null;
  private accel: Promise<AccelReport> | null = null;
  private firmware: Promise<FirmwareInfo[]> | null = null;

  constructor(private readonly opts: HostOptions) {}

  get cacheDir() {
    return join(this.opts.home, 'cache');
  }

  async qemuBinary(): Promise<DiscoveredQemu> {
    this.qemu ??= discoverQemu({ setting: this.opts.qemuSetting, resourcesDir: this.opts.resourcesDir });
    try {
      return await this.qemu;
    } catch (e) {
      this.qemu = null; // a later install should be picked up without a restart
      throw e;
    }
  }

  async qemuImg(): Promise<string> {
    const q = await this.qemuBinary().catch(() => null);
    return q?.imgBinary ?? 'qemu-img';
  }

  async capabilities(): Promise<QemuCaps> {
    const q = await this.qemuBinary();
    this.caps ??= probeCapabilities(q.binary, { cacheFile: join(this.cacheDir, 'qemu-caps.json') });
    try {
      return await this.caps;
    } catch (e) {
      this.caps = null;
      throw e;
    }
  }

  probeImage(): string {
    const p = join(this.opts.resourcesDir, 'probe', 'probe.img');
    if (!existsSync(p)) throw new VireoError('INTERNAL', `the accelerator self-test image is missing (${p}): reinstall Vireo`);
    return p;
  }

  async accelReport(force = false): Promise<AccelReport> {
    if (force) this.accel = null;
    if (!this.accel) {
      const q = await this.qemuBinary();
      const caps = await this.capabilities();
      this.accel = selfTestAccelerators({
        binary: q.binary,
        caps,
        probeImage: this.probeImage(),
        cacheFile: join(this.cacheDir, 'accel.json'),
        force,
      });
    }
    try {
      return await this.accel;
    } catch (e) {
      this.accel = null;
      throw e;
    }
  }

  async firmwareList(): Promise<FirmwareInfo[]> {
    this.firmware ??= discoverFirmware({ platform: process.platform });
    return this.firmware;
  }

  async info(refresh = false): Promise<HostInfo> {
    if (refresh) {
      this.qemu = this.caps = this.firmware = null;
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
    const swtpm = await checkSwtpm().catch(() => null);
    return {
      ...base,
      qemu,
      accel,
      firmware: fw.map(summarizeFirmware),
      tpm: swtpm
        ? { available: true, binary: 'swtpm', version: swtpm }
        : { available: false, reason: `swtpm is not installed: ${SWTPM_INSTALL_HINT}` },
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
