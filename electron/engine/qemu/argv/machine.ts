import { VireoError } from '../../../api/errors.ts';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import { QEMU_IDS, type ArgvContext } from './context.ts';
import { firmwarePlan } from './firmware.ts';
import type { Builder } from './helpers.ts';
import { SHARED_RAM_ID, hasVirtiofs } from './shares.ts';
import { aarch64MachineArgs } from './machine-aarch64.ts';
import { cpuModel, topologyAndMemoryArgs } from './cpu-memory.ts';

// Machine type, accelerator, CPU, memory and clock.

/** Oldest QEMU whose option syntax this builder emits (Ubuntu 22.04 ships 6.2). */
export const MIN_QEMU_VERSION: [number, number, number] = [6, 2, 0];

// hv_* flags Windows benefits from under a hypervisor; the set libvirt and Proxmox enable
// for modern Windows. TCG implements none of them usefully, HVF not at all.
const HYPERV_FLAGS = [
  'hv_relaxed',
  'hv_vapic',
  'hv_spinlocks=0x1fff',
  'hv_time',
  'hv_vpindex',
  'hv_synic',
  'hv_stimer',
  'hv_reset',
  'hv_frequencies',
  'hv_runtime',
  'hv_tlbflush',
  'hv_ipi',
];

function versionAtLeast(have: [number, number, number], want: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    if (have[i]! !== want[i]!) return have[i]! > want[i]!;
  }
  return true;
}

/** Refuse a QEMU too old for this syntax, or one without the VM's machine type. */
export function checkHost(config: VmConfig, ctx: ArgvContext): void {
  const { caps } = ctx;
  if (!versionAtLeast(caps.versionParts, MIN_QEMU_VERSION)) {
    throw new VireoError(
      'UNSUPPORTED',
      `QEMU ${caps.versionParts.join('.')} is too old: Vireo needs QEMU ${MIN_QEMU_VERSION.join('.')} or newer; update QEMU or point Vireo at a newer binary in Settings`,
      { version: caps.versionParts, minimum: MIN_QEMU_VERSION },
    );
  }
  const machine = config.system.machine;
  if (caps.machines.length > 0 && !caps.machines.includes(machine)) {
    throw new VireoError('UNSUPPORTED', `this QEMU build has no "${machine}" machine type: choose the other machine type in the VM's settings`, { machine });
  }
}

export const machineArgs: Builder = (config, ctx, h) => {
  if (config.arch === 'aarch64') return aarch64MachineArgs(config, ctx, h);
  const sys = config.system;
  const { fw, smm } = firmwarePlan(config, ctx);
  const machine: string[] = [sys.machine];
  if (smm) machine.push('smm=on');
  if (fw) machine.push(`pflash0=${QEMU_IDS.pflashCode}`, `pflash1=${QEMU_IDS.pflashVars}`);
  // Only with a virtiofs share: virtiofsd maps guest RAM, so RAM must be a shared memfd.
  const sharedRam = hasVirtiofs(config);
  if (sharedRam) machine.push(`memory-backend=${SHARED_RAM_ID}`);
  const args = ['-machine', machine.join(',')];
  // WHPX's in-kernel irqchip fails on many Windows builds; QEMU's own docs recommend off.
  args.push('-accel', ctx.accel === 'whpx' ? 'whpx,kernel-irqchip=off' : ctx.accel);

  let cpu = cpuModel(sys, ctx);
  if (sys.hyperv && (ctx.accel === 'kvm' || ctx.accel === 'whpx')) cpu = [cpu, ...HYPERV_FLAGS].join(',');
  args.push('-cpu', cpu, ...topologyAndMemoryArgs(sys, sharedRam));
  args.push('-rtc', `base=${sys.rtcLocalTime ? 'localtime' : 'utc'}`);
  return args;
};

/**
 * Spare PCIe root ports for disks hot-plugged into a running q35 guest: PCIe has no hot-plug
 * on the root bus, each hot-plugged device needs a port of its own. They come after every
 * other device so existing VMs keep the PCI addresses their guests already know.
 */
export const HOTPLUG_PORTS = ['hp1', 'hp2', 'hp3', 'hp4'] as const;

export const hotplugArgs: Builder = (config, ctx) => {
  // i440fx hot-plugs onto pci.0 itself (ACPI), so only q35 needs ports.
  if (config.system.machine !== 'q35' || !ctx.hotplugPorts) return [];
  // chassis numbers only need to be unique; 0x20+ stays clear of low numbers other tools use.
  return HOTPLUG_PORTS.flatMap((id, i) => ['-device', `pcie-root-port,id=${id},bus=pcie.0,chassis=${0x20 + i}`]);
};
