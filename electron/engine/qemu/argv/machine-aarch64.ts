import { QEMU_IDS, type ArgvContext } from './context.ts';
import { firmwarePlan } from './firmware.ts';
import type { Builder } from './helpers.ts';
import { SHARED_RAM_ID, hasVirtiofs } from './shares.ts';
import { cpuModel, topologyAndMemoryArgs } from './cpu-memory.ts';

// The aarch64 guest's machine: QEMU's `virt` board (PCIe, PL011 UART, PL031 RTC, fw_cfg),
// UEFI from the two pflash banks, and a GIC that fits the accelerator. machine.ts hands
// aarch64 configs here.

/**
 * KVM: the host's own GIC (a GICv2-only host cannot run a GICv3 guest). HVF: GICv3, emulated by
 * QEMU (HVF traps the GIC's system registers to QEMU). TCG: the newest QEMU emulates.
 */
export function gicVersion(accel: ArgvContext['accel']): string {
  if (accel === 'kvm') return 'host';
  if (accel === 'hvf') return '3';
  return 'max';
}

export const aarch64MachineArgs: Builder = (config, ctx) => {
  const sys = config.system;
  const { fw } = firmwarePlan(config, ctx);
  const machine = ['virt', `gic-version=${gicVersion(ctx.accel)}`];
  if (fw) machine.push(`pflash0=${QEMU_IDS.pflashCode}`, `pflash1=${QEMU_IDS.pflashVars}`);
  // As on x86 (machine.ts): virtiofsd maps guest RAM, so with a virtiofs share RAM is a shared memfd.
  const sharedRam = hasVirtiofs(config);
  if (sharedRam) machine.push(`memory-backend=${SHARED_RAM_ID}`);
  const args = ['-machine', machine.join(','), '-accel', ctx.accel];
  // "host" exists only under KVM/HVF; under TCG "max" is every feature QEMU emulates.
  args.push('-cpu', cpuModel(sys, ctx), ...topologyAndMemoryArgs(sys, sharedRam));
  // virt's PL031 keeps the time the guest reads; localtime matters only to Windows guests.
  args.push('-rtc', `base=${sys.rtcLocalTime ? 'localtime' : 'utc'}`);
  return args;
};
