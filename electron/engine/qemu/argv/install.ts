import { isAbsolute, join } from 'node:path';
import type { Builder } from './helpers.ts';

// An express install's first boot (engine/unattended/installers.ts says why it is a direct
// kernel boot): the installer's kernel and initrd with its command line, and -no-reboot, so the
// installer's final reboot ends this QEMU instead of starting the installer again (QEMU keeps
// -kernel across a guest reset); the engine drops the config once this boot has started.
export const installArgs: Builder = (c, ctx) => {
  const u = c.unattended;
  if (!u) return [];
  const path = (f: string) => (isAbsolute(f) ? f : join(ctx.vmDir, f));
  return ['-kernel', path(u.kernel), '-initrd', path(u.initrd), '-append', u.append, '-no-reboot'];
};
