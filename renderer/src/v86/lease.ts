// A page's hold on a wasm/v86 VM (engine/wasm/drives.ts): one holder at a time, renewed while
// the page runs the guest; a lease not renewed for its ttl is gone, so a closed or crashed
// page frees the VM by itself. A page keeps its lease in sessionStorage, which a reload of the
// same tab keeps and another tab has not: the reloaded page takes its own lease back, another
// page is refused and told who holds the VM (LeaseHeld), and may take it over on request (the
// old page's next write then gets INVALID_STATE and its runner stops the guest).

/** The VM is held by another window or tab: who, and since when (the engine's words in message). */
export class LeaseHeld extends Error {
  constructor(message: string, readonly heldBy: { who: string; since: string } | null) {
    super(message);
  }
}

const storeKey = (vmId: string) => `vireo.v86.lease.${vmId}`;
const stored = (vmId: string) => {
  try {
    return sessionStorage.getItem(storeKey(vmId));
  } catch {
    return null;
  }
};
const store = (vmId: string, lease: string | null) => {
  try {
    if (lease) sessionStorage.setItem(storeKey(vmId), lease);
    else sessionStorage.removeItem(storeKey(vmId));
  } catch {
    // no sessionStorage (a sandboxed frame): a reload then waits for the old lease to run out
  }
};

export class V86Lease {
  private lease: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly base: string,
    private readonly vmId: string,
    private readonly headers: Record<string, string> = {},
    private readonly onLost: (why: string) => void = () => {},
  ) {}

  private url(q: string) {
    return `${this.base}/wasm/vms/${encodeURIComponent(this.vmId)}/hold${q}`;
  }

  current(): string | null {
    return this.lease;
  }

  private async post(q: string): Promise<{ lease: string; ttlMs: number }> {
    const r = await fetch(this.url(q), { method: 'POST', headers: this.headers, credentials: 'same-origin' });
    const body = (await r.json().catch(() => null)) as { lease?: string; ttlMs?: number; error?: { code?: string; message?: string; details?: { heldBy?: { who: string; since: string } } } } | null;
    if (r.status === 409 && body?.error?.details?.heldBy) throw new LeaseHeld(body.error.message ?? 'the VM runs in another window or tab', body.error.details.heldBy);
    if (!r.ok || !body?.lease) throw new Error(body?.error?.message ?? `taking the VM failed: HTTP ${r.status}`);
    return { lease: body.lease, ttlMs: body.ttlMs ?? 15_000 };
  }

  /** Take the VM: this tab's own lease back after a reload, else a new one; refused (LeaseHeld) while another page holds it, unless takeOver. */
  async take(takeOver = false): Promise<string> {
    const mine = stored(this.vmId);
    const q = new URLSearchParams({ ...(mine ? { lease: mine } : {}), ...(takeOver ? { take: '1' } : {}) }).toString();
    const { lease, ttlMs } = await this.post(q ? `?${q}` : '');
    this.lease = lease;
    store(this.vmId, lease);
    this.timer = setInterval(() => {
      if (!this.lease) return;
      this.post(`?lease=${encodeURIComponent(this.lease)}`).catch((e: Error) => {
        this.stopTimer();
        this.lease = null;
        store(this.vmId, null);
        this.onLost(e.message);
      });
    }, Math.max(1000, ttlMs / 3));
    return lease;
  }

  private stopTimer() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async release(leaving = false): Promise<void> {
    this.stopTimer();
    const l = this.lease;
    this.lease = null;
    // a page going away (pagehide) keeps the key: its reload takes the same lease back if the release did not arrive
    if (l && !leaving) store(this.vmId, null);
    if (l) await fetch(this.url(`?lease=${encodeURIComponent(l)}`), { method: 'DELETE', headers: this.headers, credentials: 'same-origin', keepalive: true }).catch(() => {});
  }
}
