import type { Handlers } from '../../api/contract.ts';
import type { EngineParts } from '../parts.ts';
import { BackupService } from './service.ts';

// backup.*: the engine's backups (service.ts). A folder a client names passes the caller's
// path policy (policy/confine.ts): a web client backs up only into the library or its media
// folders. Restores read only the VM's own backup folder, chosen that way before.

type BackupMethods = 'backup.run' | 'backup.list' | 'backup.verify' | 'backup.restore' | 'backup.prune' | 'backup.schedule';

export function backupArea(p: EngineParts): { service: BackupService; handlers: Pick<Handlers, BackupMethods> } {
  const service = new BackupService(p);
  return {
    service,
    handlers: {
      'backup.run': async (a, c) => service.backup(a.vm, { to: a.to ? await p.confine.folder(c, a.to, 'to') : null, incremental: a.incremental }),
      'backup.list': (a) => service.list(a.vm),
      'backup.verify': (a) => service.verify(a.vm, a.backup),
      'backup.restore': (a, c) => service.restore(a.vm, { backup: a.backup, newName: a.newName }, c),
      'backup.prune': (a) => service.prune(a.vm, { daily: a.daily, weekly: a.weekly }),
      'backup.schedule': async (a, c) => service.setSchedule(a.vm, a.to ? await p.confine.folder(c, a.to, 'to') : undefined, a.schedule),
    },
  };
}
