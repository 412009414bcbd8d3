import type { Handlers } from '../../api/contract.ts';
import type { EngineParts } from '../parts.ts';
import { DriveService } from './drives.ts';

// The drives.* methods: a VM's disks and CD drives (Settings → Disks, `vireo drive`).

export function driveHandlers(p: EngineParts): Pick<Handlers, 'drives.add' | 'drives.remove' | 'drives.resize' | 'drives.media'> {
  const drives = new DriveService({ vms: p.vms, host: p.host, bus: p.bus, confine: p.confine });
  return {
    'drives.add': (a, c) => drives.add(a, c),
    'drives.remove': (a) => drives.remove(a.vm, a.disk, a.deleteFile),
    'drives.resize': (a) => drives.resize(a.vm, a.disk, a.size, a.shrink),
    'drives.media': (a, c) => drives.media(a.vm, a.drive, a.iso, c),
  };
}
