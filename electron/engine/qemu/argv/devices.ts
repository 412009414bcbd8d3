import { QEMU_IDS } from './context.ts';
import type { Builder } from './helpers.ts';

// Paravirtual helpers: entropy, the memory balloon, the clipboard agent.

export const devicesArgs: Builder = (config, ctx, { need, has }) => {
  const args: string[] = [];
  if (config.devices.rng) {
    need('virtio-rng-pci', 'the random number generator');
    // rng-builtin needs no host device path, so it works on every host OS.
    args.push('-object', 'rng-builtin,id=rng0', '-device', 'virtio-rng-pci,rng=rng0,id=rng0-dev');
  }
  if (config.devices.balloon) {
    need('virtio-balloon-pci', 'the memory balloon');
    // free-page-reporting: an idle guest hands freed pages back to the host by itself;
    // deflate-on-oom: a guest about to run out of memory may take back what the balloon holds.
    args.push('-device', `virtio-balloon-pci,id=${QEMU_IDS.balloon},free-page-reporting=on,deflate-on-oom=on`);
  }
  // Clipboard is best effort: a QEMU without the vdagent chardev still starts the VM.
  const chardevs = ctx.caps.chardevs;
  const vdagentOk = has('virtio-serial-pci') && has('virtserialport') && (chardevs === undefined || chardevs.includes('qemu-vdagent'));
  if (config.devices.clipboard && vdagentOk) {
    // mouse=off: pointer input already comes from usb-tablet; two absolute sources fight.
    args.push('-chardev', 'qemu-vdagent,id=vdagent,clipboard=on,mouse=off');
    args.push('-device', 'virtio-serial-pci,id=vdagent-serial');
    args.push('-device', 'virtserialport,bus=vdagent-serial.0,chardev=vdagent,name=com.redhat.spice.0');
  }
  return args;
};
