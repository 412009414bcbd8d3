// A drive image for v86 that lives on the engine, not in the page (issue 20): reads are HTTP
// range requests of 64 KiB chunks (a few cached), writes land in a map of dirty 256-byte
// blocks (v86's unit) that is flushed back to the engine in runs (PUT, each fsynced there
// before it is acknowledged), so a large image is never copied into memory and everything
// flushed survives a page reload or an engine restart. What the guest wrote in the last
// flush interval before a crash of the page is lost, like a power cut with a write cache.
// Plain fetch, no DOM: the same class runs in a worker and in Node (the integration test).
//
// v86 takes any object with load/get/set/get_buffer/get_state/set_state as a drive buffer
// (its starter checks for get, set and load); this is one.

export const BLOCK = 256;
export const CHUNK = 64 * 1024;
const MAX_CACHED_CHUNKS = 128; // 8 MiB of read cache
/** the engine's limit per PUT (electron/engine/wasm/drives.ts MAX_WRITE_BYTES) */
const MAX_RUN = 1024 * 1024;

export interface HttpDiskOptions {
  /** the drive's URL on the engine (/wasm/vms/<id>/drives/<drive>) */
  url: string;
  size: number;
  writable: boolean;
  /** the VM's lease (X-Vireo-Lease), needed for writes */
  lease?: () => string | null;
  /** extra headers (Node tests: the cookie a browser would send) */
  headers?: Record<string, string>;
  /** told when a write-back fails (the page then shows it and stops the guest) */
  onError?: (e: Error) => void;
}

export class HttpDisk {
  readonly byteLength: number;
  onload: ((e: object) => void) | undefined;
  onprogress: ((e: object) => void) | undefined;
  private readonly chunks = new Map<number, Uint8Array>();
  private dirty = new Map<number, Uint8Array>();
  /** blocks being written back right now: still newer than the engine's copy until acknowledged */
  private inflight = new Map<number, Uint8Array>();
  private flushing: Promise<void> | null = null;
  /** bytes fetched from the engine so far (the test checks no whole-image copy happens) */
  bytesRead = 0;

  constructor(private readonly o: HttpDiskOptions) {
    this.byteLength = o.size;
  }

  load(): void {
    this.onload?.(Object.create(null));
  }

  get dirtyBlocks(): number {
    return this.dirty.size + this.inflight.size;
  }

  private async chunk(index: number): Promise<Uint8Array> {
    const hit = this.chunks.get(index);
    if (hit) {
      this.chunks.delete(index);
      this.chunks.set(index, hit); // most recently used last
      return hit;
    }
    const start = index * CHUNK;
    const end = Math.min(start + CHUNK, this.byteLength) - 1;
    const r = await fetch(this.o.url, { headers: { ...this.o.headers, Range: `bytes=${start}-${end}` }, credentials: 'same-origin', cache: 'no-store' });
    if (r.status !== 206 && r.status !== 200) throw new Error(`reading ${this.o.url} bytes ${start}-${end} failed: HTTP ${r.status} ${await r.text().catch(() => '')}`);
    let data = new Uint8Array(await r.arrayBuffer());
    if (r.status === 200) data = data.slice(start, end + 1); // a server without ranges (never the engine)
    this.bytesRead += data.byteLength;
    this.chunks.set(index, data);
    while (this.chunks.size > MAX_CACHED_CHUNKS) this.chunks.delete(this.chunks.keys().next().value!);
    return data;
  }

  private async read(offset: number, len: number): Promise<Uint8Array> {
    const out = new Uint8Array(len);
    const first = Math.floor(offset / CHUNK);
    const last = Math.floor((offset + len - 1) / CHUNK);
    for (let c = first; c <= last; c++) {
      const data = await this.chunk(c);
      const cStart = c * CHUNK;
      const from = Math.max(offset, cStart);
      const to = Math.min(offset + len, cStart + data.byteLength);
      out.set(data.subarray(from - cStart, to - cStart), from - offset);
    }
    // The guest's own unflushed writes win over what the engine has.
    for (let b = offset / BLOCK; b < (offset + len) / BLOCK; b++) {
      const mine = this.dirty.get(b) ?? this.inflight.get(b);
      if (mine) out.set(mine, b * BLOCK - offset);
    }
    return out;
  }

  get(offset: number, len: number, fn: (data: Uint8Array) => void): void {
    this.read(offset, len).then(fn, (e: Error) => {
      this.o.onError?.(e);
      fn(new Uint8Array(len)); // v86 has no error path for a drive read; the page reports it
    });
  }

  get_and_cache(offset: number, len: number, fn: (data: Uint8Array) => void): void {
    this.get(offset, len, fn);
  }

  get_from_cache(): undefined {
    return undefined;
  }

  set(offset: number, data: Uint8Array, fn: () => void): void {
    if (!this.o.writable) {
      fn();
      return;
    }
    for (let i = 0; i < data.byteLength; i += BLOCK) {
      this.dirty.set((offset + i) / BLOCK, data.slice(i, i + BLOCK));
    }
    // A cached chunk would otherwise serve the old bytes after the dirty block is flushed.
    for (let c = Math.floor(offset / CHUNK); c <= Math.floor((offset + data.byteLength - 1) / CHUNK); c++) this.chunks.delete(c);
    fn();
  }

  get_buffer(fn: (b?: ArrayBuffer) => void): void {
    fn();
  }

  /** Nothing of the disk goes into v86's state: the engine keeps the image (snapshots copy it there). */
  get_state(): unknown[] {
    return [[]];
  }

  set_state(): void {}

  /** Write every dirty block back; resolves once the engine has fsynced them. One flush at a time. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.dirty.size ? this.flush() : undefined));
    if (this.dirty.size === 0) return Promise.resolve();
    this.inflight = this.dirty;
    this.dirty = new Map();
    this.flushing = this.writeBack(this.inflight).then(
      () => {
        this.inflight = new Map();
        this.flushing = null;
      },
      (e: Error) => {
        // Keep them: newer writes of the same blocks (in dirty) win over these.
        for (const [b, d] of this.inflight) if (!this.dirty.has(b)) this.dirty.set(b, d);
        this.inflight = new Map();
        this.flushing = null;
        this.o.onError?.(e);
        throw e;
      },
    );
    return this.flushing;
  }

  private async writeBack(blocks: Map<number, Uint8Array>): Promise<void> {
    const order = [...blocks.keys()].sort((a, b) => a - b);
    let i = 0;
    while (i < order.length) {
      let j = i;
      while (j + 1 < order.length && order[j + 1] === order[j]! + 1 && (j + 2 - i) * BLOCK <= MAX_RUN) j++;
      const body = new Uint8Array((j - i + 1) * BLOCK);
      for (let k = i; k <= j; k++) body.set(blocks.get(order[k]!)!, (k - i) * BLOCK);
      const offset = order[i]! * BLOCK;
      const r = await fetch(`${this.o.url}?offset=${offset}`, {
        method: 'PUT',
        headers: { ...this.o.headers, 'Content-Type': 'application/octet-stream', 'X-Vireo-Lease': this.o.lease?.() ?? '' },
        body,
        credentials: 'same-origin',
      });
      if (!r.ok) {
        const e = (await r.json().catch(() => null)) as { error?: { message?: string } } | null;
        throw new Error(`writing the guest's disk back failed (HTTP ${r.status}): ${e?.error?.message ?? 'no reason given'}`);
      }
      i = j + 1;
    }
  }
}
