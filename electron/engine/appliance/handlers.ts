import type { Handlers } from '../../api/contract.ts';
import type { EngineParts } from '../parts.ts';
import { ApplianceService } from './service.ts';
import { defaultVirtualBoxDir, listVirtualBoxMachines } from './vbox-file.ts';

// The appliance area's handlers (spread into the engine's one table). The appliance path is
// checked by the caller's path policy first: a web client names only files in its roots.

type ApplianceMethods = 'appliance.preview' | 'appliance.import' | 'appliance.export' | 'appliance.virtualbox';

export function applianceHandlers(parts: EngineParts): Pick<Handlers, ApplianceMethods> {
  const svc = new ApplianceService(parts);
  const source = async (c: Parameters<Handlers['appliance.preview']>[1], p: string) =>
    p.toLowerCase().endsWith('.utm') ? parts.confine.folder(c, p, 'path') : parts.confine.existingFile(c, p, 'path', 'appliance');
  return {
    'appliance.preview': async (a, c) => svc.preview(await source(c, a.path), c),
    'appliance.import': async (a, c) => svc.import(await source(c, a.path), { name: a.name }, c),
    'appliance.export': (a, c) => svc.export(a.vm, a.format, a.output, c),
    'appliance.virtualbox': async (a, c) => listVirtualBoxMachines(await parts.confine.folder(c, a.dir ?? defaultVirtualBoxDir(), 'dir')),
  };
}
