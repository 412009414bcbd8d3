import { open } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { VmDetails } from '../../api/types.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { Backend, VmEndpoints } from '../backend/types.ts';
import type { Jobs } from '../jobs.ts';
import type { Machine } from './machine.ts';
import type { VmLocks } from './locks.ts';
import { requireState } from './state-machine.ts';
import { secureSocket } from '../display/bridge.ts';
import { argvDifference, migrateToFile, readSavedMeta, removeSavedState, savedFiles, writeSavedMeta } from './save-state.ts';

// Save state as VM operations (vms.saveState, vms.discardState, a start that resumes): the
// file work is save-state.ts, the state changes are Machine's (suspend, forgetSaved, keepSaved).

/** What these operations need of the VM service (service.ts), named here so neither imports the other's module. */
export interface SavedStateHost {
  readonly locks: VmLocks;
  resolve(ref: string): LibraryEntry;
  machineFor(entry: LibraryEntry): Machine;
  details(ref: string): Promise<VmDetails>;
  backendFor(config: VmConfig): Backend;
  endpoints(entry: LibraryEntry): VmEndpoints | null;
}

/** A settings change refused while saved: the saved state is this machine's RAM and devices, which other hardware could not take back. */
export const savedEditRefusal = (name: string, fields: string[]) =>
  new VireoError('INVALID_STATE', `${fields.join(', ')} cannot be changed while "${name}" has a saved state: start it (it resumes where it was) and shut it down, or discard the saved state first`, { fields, state: 'saved' });

export class SavedStates {
  constructor(
    private readonly vms: SavedStateHost,
    private readonly jobs: Jobs,
  ) {}

  /** Writes the running VM's state to its folder and ends QEMU: the VM is 'saved' until a start resumes it. */
  save(ref: string): Promise<VmDetails> {
    const { id } = this.vms.resolve(ref);
    return this.vms.locks.run(id, 'a save of its state', async () => {
      const entry = this.vms.resolve(id);
      const name = entry.config?.name ?? entry.id;
      const m = this.vms.machineFor(entry);
      requireState('save the state of', name, m.state, ['running', 'paused']);
      const rt = m.info;
      if (!entry.config || !rt || !rt.argv.length) {
        throw new VireoError('UNSUPPORTED', `cannot save the state of "${name}": this engine re-attached to it without its command line; shut it down instead`, { state: m.state });
      }
      await this.jobs.run({ kind: 'save-state', title: `Save the state of ${name}`, vmId: entry.id, cancellable: false }, async (job) => {
        try {
          await m.suspend(async (qmp, wasRunning) => {
            const bytes = await migrateToFile(qmp, entry.paths, entry.paths.runtime, (f, total) => {
              if (total && job.job.bytesTotal !== total) job.bytes(total);
              job.progress(f);
            });
            await writeSavedMeta(entry.paths, { version: 1, savedAt: new Date().toISOString(), bytes, argv: rt.argv, binary: rt.binary, wasRunning });
          });
        } catch (e) {
          if (m.state !== 'saved') await removeSavedState(entry.paths);
          throw e;
        }
      });
      return this.vms.details(entry.id);
    });
  }

  /** Forgets a saved state: the VM is stopped (as if powered off at the moment it was saved). */
  discard(ref: string): Promise<VmDetails> {
    const { id } = this.vms.resolve(ref);
    return this.vms.locks.run(id, 'a discard of its saved state', async () => {
      const entry = this.vms.resolve(id);
      const m = this.vms.machineFor(entry);
      requireState('discard the saved state of', entry.config?.name ?? entry.id, m.state, ['saved']);
      await removeSavedState(entry.paths);
      m.forgetSaved('saved state discarded');
      return this.vms.details(entry.id);
    });
  }

  /** Refuses an operation that would change a saved VM's disks under its saved state. */
  assertNotSaved(ref: string, op: string): void {
    const entry = this.vms.resolve(ref);
    if (this.vms.machineFor(entry).state === 'saved') {
      throw new VireoError('INVALID_STATE', `cannot ${op} "${entry.config?.name ?? entry.id}" while its state is saved: start it (it resumes where it was) or discard the saved state first`, { state: 'saved' });
    }
  }

  /** The start of a saved VM (inside the service's start lock): QEMU reads the state from its file with -incoming. */
  async resume(entry: LibraryEntry, config: VmConfig, m: Machine): Promise<VmDetails> {
    const meta = await readSavedMeta(entry.paths);
    if (!meta) {
      await removeSavedState(entry.paths);
      m.forgetSaved('the saved state is unreadable');
      throw new VireoError('NOT_FOUND', `the saved state of "${config.name}" is missing or unreadable; it was discarded: start it again for a fresh boot`);
    }
    const spec = await this.vms.backendFor(config).prepareLaunch(entry, config, {});
    const diff = argvDifference(meta.argv, spec.argv) ?? (meta.binary !== spec.binary ? `QEMU was ${meta.binary}, now ${spec.binary}` : null);
    if (diff) {
      throw new VireoError('INVALID_STATE', `"${config.name}" cannot resume its saved state: its virtual hardware changed since it was saved (${diff}); undo the change, or discard the saved state`, { was: meta.argv, now: spec.argv });
    }
    const fh = await open(savedFiles(entry.paths).state, 'r');
    try {
      // Resumed: once QEMU has read it the state is inside that QEMU; the file would only resume it twice.
      const loaded = () => removeSavedState(entry.paths);
      await m.start({ ...spec, argv: [...spec.argv, '-incoming', 'fd:3'], incoming: { fd: fh.fd, resumeRunning: meta.wasRunning, loaded } });
    } catch (e) {
      m.keepSaved();
      throw e;
    } finally {
      await fh.close();
    }
    const ep = this.vms.endpoints(entry);
    await Promise.all([ep?.display?.socket, ep?.console?.socket].map((p) => p && secureSocket(p).catch(() => {})));
    return this.vms.details(entry.id);
  }
}
