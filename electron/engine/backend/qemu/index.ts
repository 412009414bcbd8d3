import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { toWireError } from '../../../api/errors.ts';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import type { HostService } from '../../host.ts';
import type { LibraryEntry } from '../../library/library.ts';
import type { LaunchSpec } from '../../vm/machine.ts';
import type { HelperProcess } from '../../vm/helpers.ts';
import type { GuestArch } from '../../arch.ts';
import { buildArgv, type ArgvFirmware } from '../../qemu/argv/index.ts';
import { resolveAccel } from '../../qemu/accel.ts';
import { chooseFirmware, createNvram } from '../../firmware/ovmf.ts';
import { paddedFlashCode } from '../../firmware/aavmf.ts';
import { swtpmHelper } from '../../tpm/swtpm.ts';
import { natHelpers } from '../../net/nat/helpers.ts';
import { natPlan, passtAvailability } from '../../net/nat/plan.ts';
import type { ArgvNat } from '../../qemu/argv/context.ts';
import { virtiofsHelpers } from '../../shares/virtiofsd.ts';
import { switchHelpers } from '../../net/switch/helper.ts';
import { switchDir } from '../../net/switch/paths.ts';
import { bridgeHelpers, findBridgeHelper } from '../../net/bridge.ts';
import { applyProcessPolicy } from '../../vm/policy.ts';
import { cpuCapHelper } from '../../resources/helper.ts';
import { netRateHelper } from '../../resources/net-limits.ts';
import { NVRAM_FILES } from '../../paths.ts';
import type { Availability, Backend, LaunchOptions, VmEndpoints } from '../types.ts';
import { bootOnceConfig } from '../../vm/boot-once.ts';
import { cloudSeedHelpers } from '../../cloud/seed-helper.ts';

// QEMU as a backend: one system emulator per guest architecture (host.ts), argv as a pure
// function of the config (qemu/argv/), UEFI firmware with a per-VM variable store, and swtpm as
// a helper process when the VM has a TPM.

export class QemuBackend implements Backend {
  readonly id = 'qemu' as const;

  constructor(private readonly host: HostService) {}

  async availability(arch: GuestArch): Promise<Availability> {
    try {
      await this.host.capabilities(arch);
      return { available: true, reason: null };
    } catch (e) {
      return { available: false, reason: toWireError(e).message };
    }
  }

  /** `nat`: the launch's NAT plan (passt helpers only for its passt cards); absent, one per NAT card */
  helpersFor(entry: LibraryEntry, config: VmConfig, nat?: Readonly<Record<string, ArgvNat>>): HelperProcess[] {
    const helpers: HelperProcess[] = [];
    if (config.system.tpm) {
      helpers.push(swtpmHelper({ stateDir: entry.paths.tpmState, runtimeDir: entry.paths.runtime, logFile: join(entry.paths.logs, 'swtpm.log') }));
    }
    helpers.push(...virtiofsHelpers(config.shares, entry.paths).helpers);
    // Private networks' switches live beside the VMs' runtime folders (one per library).
    helpers.push(...bridgeHelpers(config), ...switchHelpers(dirname(entry.paths.runtime), config));
    helpers.push(...natHelpers(entry, config, nat));
    // Last: its attach moves the paused QEMU into the VM's CPU-cap cgroup before the guest runs.
    helpers.push(cpuCapHelper(entry, config));
    helpers.push(netRateHelper(entry, config, dirname(entry.paths.runtime)));
    helpers.push(...cloudSeedHelpers(entry.paths.dir, config));
    return helpers;
  }

  endpoints(entry: LibraryEntry, config: VmConfig): VmEndpoints {
    return {
      // QEMU serves VNC even without a display device (it then shows that there is none).
      display: { protocol: 'vnc', socket: entry.paths.vncSocket },
      console: config.serial.enabled ? { protocol: 'serial', socket: entry.paths.serialSocket } : null,
    };
  }

  async prepareLaunch(entry: LibraryEntry, config: VmConfig, opts: LaunchOptions = {}): Promise<LaunchSpec> {
    const q = await this.host.qemuBinary(config.arch);
    const caps = await this.host.capabilities(config.arch);
    const report = await this.host.accelReport(false, config.arch);
    const { accel, reason } = resolveAccel(config.system.accel, report);
    const firmware = config.system.firmware === 'uefi' ? await this.firmwareFor(entry, config) : undefined;
    const nat = natPlan(config, entry.paths.runtime, await passtAvailability(), caps.versionParts);
    const helpers = this.helpersFor(entry, config, nat);
    const tpm = helpers.find((h): h is ReturnType<typeof swtpmHelper> => h.name === 'swtpm');
    const argv = buildArgv(opts.bootOnce ? bootOnceConfig(config, opts.bootOnce) : config, {
      vmDir: entry.paths.dir,
      accel,
      caps,
      platform: process.platform,
      firmware,
      tpmSocket: tpm?.socket,
      pidFile: entry.paths.pidFile,
      serialLog: entry.paths.serialLog,
      // qmpCmd: a second monitor for short-lived clients (the CLI while `vireo serve` holds the first).
      sockets: { qmp: entry.paths.qmpSocket, qmpCmd: entry.paths.qmpCmdSocket, vnc: entry.paths.vncSocket, serial: entry.paths.serialSocket, agent: entry.paths.agentSocket },
      loadvm: opts.loadvm,
      privateNetDir: switchDir(dirname(entry.paths.runtime)),
      bridgeHelper: findBridgeHelper() ?? undefined,
      hotplugPorts: true,
      nat,
      shareSockets: virtiofsHelpers(config.shares, entry.paths).sockets,
    });
    return {
      binary: q.binary,
      argv,
      accel,
      accelReason: reason,
      helpers,
      afterSpawn: (pid) => void applyProcessPolicy(pid, config.system).then((notes) => notes.forEach((n) => process.emitWarning(`vireo: ${n}`))),
    };
  }

  private async firmwareFor(entry: LibraryEntry, config: VmConfig): Promise<ArgvFirmware> {
    const fw = chooseFirmware(await this.host.firmwareList(config.arch), { machine: config.system.machine, secureBoot: config.system.secureBoot });
    let nvram = NVRAM_FILES.map((f) => join(entry.paths.dir, f)).find((f) => existsSync(f));
    let varsFormat: 'qcow2' | 'raw' = nvram?.endsWith('.qcow2') ? 'qcow2' : 'raw';
    if (!nvram) {
      // Firmware switched to UEFI in settings after creation: give it its store now.
      const created = await createNvram(fw, entry.paths.dir, await this.host.qemuImg(), { arch: config.arch });
      nvram = created.path;
      varsFormat = created.format;
    }
    // aarch64: the virt machine's flash bank is 64 MiB, so an unpadded build is padded (cached).
    const code = config.arch === 'aarch64' && fw.codeFormat === 'raw' ? await paddedFlashCode(fw.code, this.host.cacheDir) : fw.code;
    return { code, codeFormat: fw.codeFormat, vars: nvram, varsFormat, secureBoot: config.system.secureBoot, requiresSmm: fw.requiresSmm || config.system.secureBoot };
  }
}
