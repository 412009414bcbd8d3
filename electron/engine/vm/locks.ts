import { VireoError } from '../../api/errors.ts';

// One operation at a time per VM inside an engine: a start racing a start, a delete racing a
// snapshot, a settings change racing a clone. Each waits for the one before it (in order);
// `tryRun` refuses at once with BUSY instead of waiting, for callers that should not queue.

export class VmLocks {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly running = new Map<string, string>();

  /** Runs `fn` after every earlier operation on this VM has finished. */
  run<T>(vmId: string, what: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(vmId) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(async () => {
      this.running.set(vmId, what);
      try {
        return await fn();
      } finally {
        this.running.delete(vmId);
      }
    });
    const tail = next.catch(() => {});
    this.tails.set(vmId, tail);
    void tail.then(() => {
      if (this.tails.get(vmId) === tail) this.tails.delete(vmId);
    });
    return next;
  }

  /** Runs `fn` now if nothing else runs on this VM, else throws BUSY naming what does. */
  tryRun<T>(vmId: string, name: string, what: string, fn: () => Promise<T>): Promise<T> {
    const busy = this.running.get(vmId) ?? (this.tails.has(vmId) ? 'another operation' : null);
    if (busy) throw new VireoError('BUSY', `cannot ${what} "${name}" now: ${busy} is in progress; try again when it has finished`, { vm: vmId, busyWith: busy });
    return this.run(vmId, what, fn);
  }

  /** What runs on this VM now, if anything. */
  current(vmId: string): string | null {
    return this.running.get(vmId) ?? null;
  }
}
