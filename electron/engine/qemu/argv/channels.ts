import type { Builder } from './helpers.ts';

// The channels the engine and people use to reach a VM: process identity and the QMP/VNC
// sockets first, the serial console near the end, the second monitor and -loadvm last
// before the user's own arguments (where the engine has always put them).

export const controlArgs: Builder = (config, ctx, { esc }) => [
  '-nodefaults', '-no-user-config', '-S',
  // guest= explicitly: with an implied key, a name containing "=" would be read as an option.
  '-name', `guest=${esc(config.name)},process=vireo-${config.id.slice(0, 8)}`,
  '-uuid', config.id,
  '-pidfile', ctx.pidFile,
  '-qmp', `unix:${esc(ctx.sockets.qmp)},server=on,wait=off`,
  '-display', 'none',
  '-vnc', `unix:${esc(ctx.sockets.vnc)}`,
];

/** Serial console on a socket, logged for the "why did it not boot" view. */
export const serialArgs: Builder = (config, ctx, { esc }) =>
  config.serial.enabled
    ? [
      '-chardev', `socket,id=serial0,path=${esc(ctx.sockets.serial)},server=on,wait=off,logfile=${esc(ctx.serialLog)},logappend=on`,
      '-serial', 'chardev:serial0',
    ]
    : [];

/** The second QMP monitor and the snapshot to resume from. */
export const resumeArgs: Builder = (_config, ctx, { esc }) => [
  ...(ctx.sockets.qmpCmd ? ['-qmp', `unix:${esc(ctx.sockets.qmpCmd)},server=on,wait=off`] : []),
  // -loadvm takes the whole argument as the tag, so no escaping.
  ...(ctx.loadvm !== undefined ? ['-loadvm', ctx.loadvm] : []),
];
