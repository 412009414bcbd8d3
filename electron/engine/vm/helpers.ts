// Helper processes a VM's QEMU needs beside it (swtpm now; passt, virtiofsd and others plug
// in the same way). The launch owns them as a list: started in order before QEMU, rolled back
// in reverse when anything fails, stopped in reverse after QEMU has exited — also when that
// QEMU was started by an earlier engine, because a helper is found again from the files it
// leaves in the VM's runtime folder, not from a handle this process holds.

export interface HelperProcess {
  /** short name for logs and errors: "swtpm", "passt", "virtiofsd" */
  readonly name: string;
  /** starts it; resolves once QEMU can connect to it */
  start(): Promise<void>;
  /** stops it, whoever started it; idempotent */
  stop(): Promise<void>;
  /**
   * for a helper that connects to a socket QEMU serves (passt to a NAT card's stream netdev):
   * runs once QEMU is up and its monitor answers, before the guest runs
   */
  attach?(): Promise<void>;
}

/** The attach phase of the helpers that have one, in order; a failure fails the start (which rolls back). */
export async function attachHelpers(helpers: readonly HelperProcess[]): Promise<void> {
  for (const h of helpers) await h.attach?.();
}

/**
 * Starts each helper in order. If one fails, those already started are stopped in reverse
 * and the first error is thrown with the helper's name added to its details.
 */
export async function startHelpers(helpers: readonly HelperProcess[]): Promise<void> {
  const started: HelperProcess[] = [];
  for (const h of helpers) {
    try {
      await h.start();
      started.push(h);
    } catch (e) {
      await stopHelpers(started);
      throw e;
    }
  }
}

/** Stops helpers in reverse order; one that fails to stop does not keep the others running. */
export async function stopHelpers(helpers: readonly HelperProcess[]): Promise<string[]> {
  const failures: string[] = [];
  for (const h of [...helpers].reverse()) {
    try {
      await h.stop();
    } catch (e) {
      failures.push(`${h.name}: ${(e as Error).message}`);
    }
  }
  return failures;
}
