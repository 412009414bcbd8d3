// A page's hold on a wasm/v86 VM (engine/wasm/drives.ts): one holder at a time, renewed while
// the page runs the guest; a lease not renewed for its ttl is gone, so a closed or crashed
// page frees the VM by itself. `takeOver` is for a reloaded page: the old lease (if its page
// still lives) then gets INVALID_STATE on its next write and its runner stops the guest.

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
    const body = (await r.json().catch(() => null)) as { lease?: string; ttlMs?: number; error?: { message?: string } } | null;
    if (!r.ok || !body?.lease) throw new Error(body?.error?.message ?? `taking the VM failed: HTTP ${r.status}`);
    return { lease: body.lease, ttlMs: body.ttlMs ?? 15_000 };
  }

  async take(takeOver = false): Promise<string> {
    const { lease, ttlMs } = await this.post(takeOver ? '?take=1' : '');
    this.lease = lease;
    this.timer = setInterval(() => {
      if (!this.lease) return;
      this.post(`?lease=${encodeURIComponent(this.lease)}`).catch((e: Error) => {
        this.stopTimer();
        this.lease = null;
        this.onLost(e.message);
      });
    }, Math.max(1000, ttlMs / 3));
    return lease;
  }

  private stopTimer() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async release(): Promise<void> {
    this.stopTimer();
    const l = this.lease;
    this.lease = null;
    if (l) await fetch(this.url(`?lease=${encodeURIComponent(l)}`), { method: 'DELETE', headers: this.headers, credentials: 'same-origin', keepalive: true }).catch(() => {});
  }
}
