import type { Handlers } from '../../api/contract.ts';
import type { UnattendedAvailability } from '../../api/types.ts';
import type { EngineParts } from '../parts.ts';
import { findGuestTools } from '../shares/guest-tools.ts';
import { installerFor } from './installers.ts';
import { unattendedStartHooks } from './lifecycle.ts';
import { mediumAvailability } from './medium.ts';
import { libosinfoScriptFor } from './libosinfo.ts';

// Express install (issue 17): vms.create takes the answers (create.ts → prepare.ts); this area
// tells the wizard and the CLI whether an OS has one here and why not, and removes the answers
// after the install's first boot (lifecycle.ts).

export function unattendedHandlers(p: EngineParts): Pick<Handlers, 'unattended.availability'> {
  p.vms.startHooks.push(unattendedStartHooks(p.library));
  return {
    'unattended.availability': async (a) => {
      const found = installerFor(a.os);
      if (!found.ok) return { os: a.os, virtioWin: null, searched: [], answersFrom: null, available: false, installer: null, productKey: false, reason: found.reason } satisfies UnattendedAvailability;
      const { installer } = found;
      // the same choice prepare.ts makes: the host's libosinfo script where it has one
      const lib = await libosinfoScriptFor(a.os, installer.kind);
      const answersFrom = lib.script ? `the host's libosinfo (${lib.script.profile} script ${lib.script.file})` : `Vireo's template ${installer.template} (${lib.reason})`;
      const base = { os: a.os, virtioWin: null, searched: [], answersFrom };
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
