import { VireoError } from '../../api/errors.ts';
import type { Handlers } from '../../api/contract.ts';
import type { EngineParts } from '../parts.ts';
import { isWeb } from '../policy/confine.ts';
import { Disposables } from './disposable.ts';

// The API of throwaway VMs (disposable.ts). Building the area also sweeps: an engine that
// starts removes the throwaway VMs whose owner process died (a `vireo run` killed with SIGKILL).

export interface DisposableArea {
  handlers: Pick<Handlers, 'disposables.create' | 'disposables.discard' | 'disposables.sweep'>;
  /** for vms.start, vms.delete and snapshots.restore: refuses a base whose disks back a throwaway VM's overlays */
  assertNotBacking(ref: string, op: 'start' | 'delete' | 'restore'): void;
}

export function disposableArea(p: EngineParts): DisposableArea {
  const d = new Disposables(p);
  void d.sweep().catch(() => {});
  return {
    assertNotBacking: (ref, op) => d.assertNotBacking(ref, op),
    handlers: {
      'disposables.create': async (a, c) => {
        // An owner is a process on the engine's host: a remote caller has none to name.
        if (isWeb(c) && a.ownerPid !== undefined) {
          throw new VireoError('PERMISSION_DENIED', 'a web client cannot tie a throwaway VM to a host process: omit ownerPid and discard the VM when done', { field: 'ownerPid' });
        }
        return d.create({ from: a.from, snapshot: a.snapshot, name: a.name, ownerPid: a.ownerPid ?? null, start: a.start });
      },
      'disposables.discard': (a) => d.discard(a.vm),
      'disposables.sweep': () => d.sweep(),
    },
  };
}
