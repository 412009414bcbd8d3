import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import { agentArgs } from './agent.ts';
import { controlArgs, resumeArgs, serialArgs } from './channels.ts';
import type { ArgvContext } from './context.ts';
import { devicesArgs } from './devices.ts';
import { displayArgs } from './display.ts';
import { firmwareArgs, firmwarePlan } from './firmware.ts';
import { makeHelpers, type Builder } from './helpers.ts';
import { inputArgs } from './input.ts';
import { installArgs } from './install.ts';
import { checkHost, hotplugArgs, machineArgs } from './machine.ts';
import { networkArgs } from './network.ts';
import { soundArgs } from './sound.ts';
import { checkShares, sharesArgs } from './shares.ts';
import { storageArgs } from './storage.ts';
import { limitsArgs } from './limits.ts';
import { checkUsb, usbArgs } from './usb.ts';
import { checkTpm, tpmArgs } from './tpm.ts';

// QEMU's argv as a pure function of a VM config plus facts about the host. Nothing here reads
// the file system, the environment or the clock, so golden files can pin the output and the
// engine can log exactly what it is about to run. One small builder per concern (as UTM
// builds its arguments per device), composed in a fixed order, the user's arguments last.

export type { ArgvCaps, ArgvContext, ArgvFirmware, ArgvSockets, AudioBackend } from './context.ts';
export { QEMU_IDS } from './context.ts';
export { qemuOptEscape } from './escape.ts';
export { HOTPLUG_PORTS, MIN_QEMU_VERSION } from './machine.ts';
export type { Builder, Helpers } from './helpers.ts';
export { makeHelpers } from './helpers.ts';

/** The builders in the order their arguments appear; golden files per concern use the names. */
export const BUILDERS: readonly (readonly [concern: string, build: Builder])[] = [
  ['control', controlArgs],
  ['machine', machineArgs],
  ['firmware', firmwareArgs],
  ['install', installArgs],
  ['limits', limitsArgs],
  ['storage', storageArgs],
  ['network', networkArgs],
  ['display', displayArgs],
  ['input', inputArgs],
  ['usb', usbArgs],
  ['sound', soundArgs],
  ['devices', devicesArgs],
  ['shares', sharesArgs],
  ['agent', agentArgs],
  ['serial', serialArgs],
  ['tpm', tpmArgs],
  ['hotplug', hotplugArgs],
  ['resume', resumeArgs],
];

export function buildArgv(config: VmConfig, ctx: ArgvContext): string[] {
  // Refusals first, before any builder runs, so a bad host or context fails the same way
  // whatever the rest of the config holds.
  checkHost(config, ctx);
  firmwarePlan(config, ctx);
  checkTpm(config, ctx);
  checkUsb(config);
  checkShares(config, ctx);
  const h = makeHelpers(config, ctx);
  // CPU pinning and priority are applied by the engine to the QEMU process, not via argv.
  return [...BUILDERS.flatMap(([, build]) => build(config, ctx, h)), ...config.advanced.extraArgs];
}
