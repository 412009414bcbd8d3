import { VireoError } from '../../../api/errors.ts';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import { QEMU_IDS, type ArgvContext, type ArgvFirmware } from './context.ts';
import type { Builder } from './helpers.ts';

// UEFI flash as blockdev nodes (so the vars, in qcow2, are part of live snapshots), SMM for
// Secure Boot, and the firmware's boot menu.

export interface FirmwarePlan {
  /** the UEFI firmware, or undefined for SeaBIOS */
  fw?: ArgvFirmware;
  /** SMM on: Secure Boot, or firmware built to need it */
  smm: boolean;
}

/**
 * The engine picks firmware (and starts swtpm) from the config; argv refuses a context that
 * disagrees rather than starting a VM that silently differs from its settings.
 */
export function firmwarePlan(config: VmConfig, ctx: ArgvContext): FirmwarePlan {
  const sys = config.system;
  const uefi = sys.firmware === 'uefi';
  const fw = uefi ? ctx.firmware : undefined;
  if (uefi && !fw) {
    throw new VireoError('INTERNAL', 'the VM uses UEFI but no firmware was chosen before building the QEMU command line', { vm: config.id });
  }
  if (sys.secureBoot && !uefi) {
    throw new VireoError('INVALID_ARGUMENT', 'Secure Boot needs UEFI firmware: set the firmware to UEFI or turn Secure Boot off', { firmware: sys.firmware });
  }
  if (sys.secureBoot && fw && !fw.secureBoot) {
    throw new VireoError('INTERNAL', `Secure Boot is on but the chosen firmware ${fw.code} does not support it`, { firmware: fw });
  }
  // SMM is x86's: aarch64 firmware keeps its variables safe without it (no SMM on virt).
  const smm = !!fw && config.arch === 'x86_64' && (fw.requiresSmm || sys.secureBoot);
  if (smm && sys.machine !== 'q35') {
    throw new VireoError('UNSUPPORTED', 'Secure Boot (and SMM-based UEFI firmware) needs the q35 machine type: switch the machine to q35 or turn Secure Boot off', { machine: sys.machine });
  }
  return { fw, smm };
}

export const firmwareArgs: Builder = (config, ctx, { esc }) => {
  const { fw, smm } = firmwarePlan(config, ctx);
  const args: string[] = [];
  if (fw) {
    const code = QEMU_IDS.pflashCode;
    const vars = QEMU_IDS.pflashVars;
    args.push('-blockdev', `driver=file,node-name=${code}-file,filename=${esc(fw.code)},read-only=on`);
    args.push('-blockdev', `driver=${fw.codeFormat ?? 'raw'},node-name=${code},file=${code}-file,read-only=on`);
    args.push('-blockdev', `driver=file,node-name=${vars}-file,filename=${esc(fw.vars)}`);
    args.push('-blockdev', `driver=${fw.varsFormat},node-name=${vars},file=${vars}-file`);
    if (smm) args.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
  }
  if (config.boot.menu) args.push('-boot', 'menu=on');
  return args;
};
