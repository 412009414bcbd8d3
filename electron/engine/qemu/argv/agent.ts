import type { Builder } from './helpers.ts';

// The guest agent's channel: a virtio-serial port named org.qemu.guest_agent.0 (the name
// qemu-ga and the Windows agent look for) backed by a unix socket in the VM's runtime folder,
// which only the engine connects to (electron/engine/agent/). Modern-profile VMs only: a
// legacy guest (DOS, Windows 9x) has no virtio driver and no agent. Its own virtio-serial
// controller, so the clipboard's port (devices.ts) and this one come and go independently.
// server=on,wait=off: QEMU keeps the socket across guest reboots, and the engine may connect
// and reconnect at any time.

export const AGENT_PORT_NAME = 'org.qemu.guest_agent.0';

export const agentArgs: Builder = (config, ctx, { has, esc }) => {
  if (config.profile !== 'modern' || !ctx.sockets.agent) return [];
  // Best effort like the clipboard: a QEMU without virtio-serial still runs the VM, and the
  // agent then shows as absent.
  if (!has('virtio-serial-pci') || !has('virtserialport')) return [];
  return [
    '-chardev', `socket,id=agent0,path=${esc(ctx.sockets.agent)},server=on,wait=off`,
    '-device', 'virtio-serial-pci,id=agent-serial',
    '-device', `virtserialport,bus=agent-serial.0,chardev=agent0,name=${AGENT_PORT_NAME}`,
  ];
};
