import type { VmStatsSample } from '../../api/stats-types.ts';
import { USER_HZ } from './proc.ts';

// Pure: two raw readings of one VM a second apart → one sample of rates. Kept apart from the
// readers so the arithmetic (counter resets, first reading, tick units) is unit-tested.

export interface DiskCounters {
  rdBytes: number;
  wrBytes: number;
  rdOps: number;
  wrOps: number;
}

export interface RawReading {
  /** wall clock (ms since the epoch), the sample's time */
  t: number;
  /** monotonic clock (ms), for intervals that a clock change must not bend */
  mono: number;
  procTicks: number | null;
  threads: { index: number; tid: number; ticks: number | null }[];
  rssBytes: number | null;
  balloonActualBytes: number | null;
  guestFreeBytes: number | null;
  guestTotalBytes: number | null;
  disk: DiskCounters | null;
  net: { rx: number; tx: number } | null;
}

/** per second; null without a previous value, or when the counter went back (a reset) */
function rate(prev: number | null | undefined, cur: number | null | undefined, sec: number): number | null {
  if (prev == null || cur == null || sec <= 0 || cur < prev) return null;
  return (cur - prev) / sec;
}

const cpu = (prevTicks: number | null | undefined, ticks: number | null, sec: number): number | null => {
  const r = rate(prevTicks, ticks, sec);
  return r == null ? null : (r / USER_HZ) * 100;
};

export function toSample(prev: RawReading | null, cur: RawReading): VmStatsSample {
  const sec = prev ? (cur.mono - prev.mono) / 1000 : 0;
  const prevThread = new Map(prev?.threads.map((th) => [th.tid, th.ticks]) ?? []);
  return {
    t: cur.t,
    cpuPercent: cpu(prev?.procTicks, cur.procTicks, sec),
    vcpus: cur.threads.map((th) => ({ index: th.index, threadId: th.tid, percent: cpu(prevThread.get(th.tid), th.ticks, sec) })),
    rssBytes: cur.rssBytes,
    balloonActualBytes: cur.balloonActualBytes,
    guestFreeBytes: cur.guestFreeBytes,
    guestTotalBytes: cur.guestTotalBytes,
    diskReadBytesPerSec: rate(prev?.disk?.rdBytes, cur.disk?.rdBytes, sec),
    diskWriteBytesPerSec: rate(prev?.disk?.wrBytes, cur.disk?.wrBytes, sec),
    diskReadOpsPerSec: rate(prev?.disk?.rdOps, cur.disk?.rdOps, sec),
    diskWriteOpsPerSec: rate(prev?.disk?.wrOps, cur.disk?.wrOps, sec),
    diskReadBytes: cur.disk?.rdBytes ?? null,
    diskWriteBytes: cur.disk?.wrBytes ?? null,
    netRxBytesPerSec: rate(prev?.net?.rx, cur.net?.rx, sec),
    netTxBytesPerSec: rate(prev?.net?.tx, cur.net?.tx, sec),
  };
}

/** A fixed-size ring of the newest items (the 10 minutes of samples kept per VM). */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  get size(): number {
    return this.count;
  }

  /** oldest first */
  toArray(): T[] {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    return Array.from({ length: this.count }, (_, i) => this.items[(start + i) % this.capacity] as T);
  }

  last(): T | null {
    return this.count ? (this.items[(this.next - 1 + this.capacity) % this.capacity] as T) : null;
  }
}
