import { isAbsolute, join } from 'node:path';
import type { Caller } from '../../api/define.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import { isWeb, type Confinement } from '../policy/confine.ts';
import { refused } from '../policy/refused.ts';

// A web caller's settings change (vms.update) may name host things through the USB list and
// the extra CD drives: a USB stick's image file, a CD's ISO, a host USB device. Files go
// through the same checks as disks and the first CD; host devices stay with local callers.

type Devices = Pick<VmConfig, 'usb'> & { cdrom: Pick<VmConfig['cdrom'], 'extra'> };

export async function confineDevices(confine: Confinement, caller: Caller, vmDir: string, before: Devices, after: Devices): Promise<void> {
  if (!isWeb(caller)) return;
  for (const [i, cd] of after.cdrom.extra.entries()) {
    if (!cd.iso || before.cdrom.extra.some((b) => b.iso === cd.iso)) continue;
    const field = `cdrom.extra.${i}.iso`;
    const real = await confine.existingFile(caller, cd.iso, field, 'ISO');
    if (real !== cd.iso) throw refused(`${field}: ${cd.iso} is a link to ${real}: give the real path`, { field, path: cd.iso, real });
  }
  for (const [i, u] of after.usb.entries()) {
    const old = before.usb.find((b) => b.id === u.id);
    if (old && old.kind === u.kind && old.host === u.host && old.file === u.file && old.format === u.format) continue;
    if (u.kind === 'host') {
      throw refused(`usb.${i}: a client of vireo serve may not pass the server's USB devices into a VM: do it in the desktop app or with \`vireo usb attach\` on the server`, { field: `usb.${i}.host` });
    }
    if (u.kind === 'storage' && u.file) {
      const field = `usb.${i}.file`;
      if (!isAbsolute(u.file) && u.file.split(/[\\/]/).includes('..')) throw refused(`${field}: "${u.file}" leaves the VM's folder`, { field, path: u.file });
      const full = isAbsolute(u.file) ? u.file : join(vmDir, u.file);
      const { path, format } = await confine.diskImage(caller, full, field);
      if (path !== full) throw refused(`${field}: ${u.file} is a link to ${path}: give the real path`, { field, path: u.file, real: path });
      if (format !== u.format) throw refused(`${field}: ${u.file} is a ${format} image, not ${u.format}: set format to ${format}`, { field, path: u.file });
    }
  }
}
