import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import type { ArgvContext } from './context.ts';
import { SHARED_RAM_ID } from './shares.ts';

// What every architecture's machine builder says the same way: the CPU model under the
// accelerator actually used, the topology, and guest RAM (a shared memfd when a virtiofs share
// needs virtiofsd to map it).

/**
 * The -cpu model: "auto" is "host" under a hardware accelerator and "max" under TCG. "host"
 * means nothing to an emulator; when the engine fell back to TCG (e.g. broken nested KVM) the
 * closest equivalent is "max", so the VM still starts.
 */
export function cpuModel(sys: VmConfig['system'], ctx: Pick<ArgvContext, 'accel'>): string {
  const hw = ctx.accel !== 'tcg';
  const cpu = sys.cpuModel === 'auto' ? (hw ? 'host' : 'max') : sys.cpuModel;
  return !hw && cpu.split(',')[0] === 'host' ? ['max', ...cpu.split(',').slice(1)].join(',') : cpu;
}

/** -smp and -m (and the memfd behind -machine memory-backend= when sharedRam). */
export function topologyAndMemoryArgs(sys: VmConfig['system'], sharedRam: boolean): string[] {
  // One socket: Windows client editions use at most two sockets, but any number of cores.
  const args = ['-smp', `cpus=${sys.cpus},sockets=1,cores=${sys.cpus},threads=1`, '-m', `${sys.memoryMiB}M`];
  if (sharedRam) args.push('-object', `memory-backend-memfd,id=${SHARED_RAM_ID},size=${sys.memoryMiB}M,share=on`);
  return args;
}
