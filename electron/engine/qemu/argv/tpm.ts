import { VireoError } from '../../../api/errors.ts';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import type { ArgvContext } from './context.ts';
import type { Builder } from './helpers.ts';

// TPM 2.0 through swtpm, which the engine starts before QEMU. CRB is the interface q35
// guests expect; TIS for i440fx.

export function checkTpm(config: VmConfig, ctx: ArgvContext): void {
  if (config.system.tpm && !ctx.tpmSocket) {
    throw new VireoError('INTERNAL', 'the VM has a TPM but swtpm was not started before building the QEMU command line', { vm: config.id });
  }
}

export const tpmArgs: Builder = (config, ctx, { esc, need, has }) => {
  if (!config.system.tpm || !ctx.tpmSocket) return [];
  // virt has no ISA bus: its TIS is the sysbus tpm-tis-device.
  const model = config.system.machine === 'virt' ? 'tpm-tis-device' : config.system.machine === 'q35' && has('tpm-crb') ? 'tpm-crb' : 'tpm-tis';
  need(model, 'the TPM');
  return [
    '-chardev', `socket,id=chrtpm,path=${esc(ctx.tpmSocket)}`,
    '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm',
    '-device', `${model},tpmdev=tpm0,id=tpm0-dev`,
  ];
};
