import type { Handlers } from '../../api/contract.ts';
import type { UnattendedAvailability } from '../../api/types.ts';
import type { EngineParts } from '../parts.ts';
import { findGuestTools } from '../shares/guest-tools.ts';
import { installerFor } from './installers.ts';
import { unattendedStartHooks } from './lifecycle.ts';
import { mediumAvailability } from './medium.ts';

// Express install (issue 17): vms.create takes the answers (create.ts → prepare.ts); this area
// tells the wizard and the CLI whether an OS has one here and why not, and removes the answers
// after the install's first boot (lifecycle.ts).

export function unattendedHandlers(p: EngineParts): Pick<Handlers, 'unattended.availability'> {
  p.vms.startHooks.push(unattendedStartHooks(p.library));
  return {
    'unattended.availability': async (a) => {
      const found = installerFor(a.os);
      const base = { os: a.os, virtioWin: null, searched: [] };
      if (!found.ok) return { ...base, available: false, installer: null, productKey: false, reason: found.reason } satisfies UnattendedAvailability;
      const { installer } = found;
      if (installer.kind === 'autoinstall' || installer.kind === 'autounattend') {
        const m = await mediumAvailability();
        if (!m.available) return { ...base, available: false, installer: installer.kind, productKey: installer.productKey, reason: m.reason };
      }
      if (installer.kind !== 'autounattend') return { ...base, available: true, installer: installer.kind, productKey: false, reason: null };
      // Windows: the virtio drivers ride along when a virtio-win CD is on this host.
      const tools = await findGuestTools();
      const virtio = tools.found.find((t) => t.kind === 'virtio-win' && t.attachable)?.path ?? null;
      return { ...base, available: true, installer: installer.kind, productKey: true, reason: null, virtioWin: virtio, searched: tools.searched };
    },
  };
}
