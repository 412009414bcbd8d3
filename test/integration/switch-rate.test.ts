import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The private-network switch's bandwidth limit (resources/net/switch.mjs; issue 18's network
// limits), driven the way QEMU drives it: two clients on its unix socket speaking QEMU's
// `-netdev stream` framing (a 4-byte big-endian length, then the Ethernet frame). A rate file
// named after a MAC limits the port that MAC lives behind, both ways, and changes live. The
// throughput is read at the receiving end between its first and last frame.

const SWITCH = join(__dirname, '..', '..', 'resources', 'net', 'switch.mjs');
const MAC_A = '52:54:00:5a:00:0a';
const MAC_B = '52:54:00:5a:00:0b';
/** The first bytes of a measurement are left out: a token bucket lets its burst through at once. */
const SKIP = 100_000;
const macBytes = (m: string) => Buffer.from(m.replace(/:/g, ''), 'hex');

let dir: string;
let sw: ChildProcess;
let a: Port;
let b: Port;

class Port {
  received = 0;
  /** when the cumulative count passed SKIP bytes, and when the last frame came */
  first = 0;
  last = 0;
  private buf = Buffer.alloc(0);
  private constructor(readonly sock: Socket, readonly mac: string) {
    sock.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32BE(0)) {
        const len = this.buf.readUInt32BE(0);
        const now = performance.now();
        this.received += len;
        if (this.first === 0 && this.received >= SKIP) this.first = now;
        this.last = now;
        this.buf = this.buf.subarray(4 + len);
      }
    });
  }
  static open(path: string, mac: string): Promise<Port> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new Port(s, mac)));
      s.once('error', reject);
    });
  }
  frame(dst: string, size: number): Buffer {
    const f = Buffer.alloc(4 + size);
    f.writeUInt32BE(size, 0);
    macBytes(dst).copy(f, 4);
    macBytes(this.mac).copy(f, 10);
    f.writeUInt16BE(0x88b5, 16); // a local experimental EtherType: nothing to snoop
    return f;
  }
  /** Sends `total` bytes in 1500-byte frames to `dst`, honouring the socket's backpressure. */
  async send(dst: string, total: number): Promise<void> {
    const one = this.frame(dst, 1500);
    for (let sent = 0; sent < total; sent += 1500) {
      if (!this.sock.write(one)) await new Promise((r) => this.sock.once('drain', r));
    }
  }
  reset() {
    this.received = 0;
    this.first = 0;
  }
  /** Bytes/s after the first SKIP bytes since reset() (the bucket's burst passes at once), to the last frame. */
  rate(): number {
    return (this.received - SKIP) / ((this.last - this.first) / 1000);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
const rates = () => join(dir, 'lab.rates');
function setRate(mac: string, bytesPerSec: number | null) {
  const f = join(rates(), mac.replace(/:/g, '-'));
  if (bytesPerSec === null) rmSync(f, { force: true });
  else writeFileSync(f, `${bytesPerSec}\n`);
}

/** Sends `total` from `from` to `to` and returns the rate `to` saw. */
async function measure(from: Port, to: Port, total: number): Promise<number> {
  to.reset();
  await from.send(to.mac, total);
  await until(() => to.received >= total, 60_000, `${total} bytes at ${to.mac}`);
  return to.rate();
}

describe("the private network switch's bandwidth limit", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vireo-switch-rate-'));
    mkdirSync(rates());
    sw = spawn(process.execPath, [SWITCH, join(dir, 'lab.sock'), join(dir, 'lab.pid'), join(dir, 'lab.seen.json'), rates()], { stdio: 'ignore' });
    await until(() => existsSync(join(dir, 'lab.pid')), 10_000, 'the switch to listen');
    a = await Port.open(join(dir, 'lab.sock'), MAC_A);
    b = await Port.open(join(dir, 'lab.sock'), MAC_B);
    // Each side's first frame teaches the switch its MAC (flooded to the other).
    a.sock.write(a.frame('ff:ff:ff:ff:ff:ff', 60));
    b.sock.write(b.frame('ff:ff:ff:ff:ff:ff', 60));
    await until(() => a.received > 0 && b.received > 0, 5_000, 'the first frames');
  });

  afterAll(() => {
    a?.sock.destroy();
    b?.sock.destroy();
    sw?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('unlimited, frames pass far faster than the limits below', async () => {
    expect(await measure(a, b, 4_000_000)).toBeGreaterThan(4_000_000);
  });

  it('1 MB/s on a\'s MAC: what a sends arrives at 1 MB/s (within 15 %)', async () => {
    setRate(MAC_A, 1_000_000);
    await sleep(700); // the switch reads its rates twice a second
    const r = await measure(a, b, 2_000_000);
    expect(r).toBeGreaterThan(850_000);
    expect(r).toBeLessThan(1_150_000);
  });

  it('and what a receives is paced at 1 MB/s too, its sender held back rather than its frames dropped', async () => {
    const r = await measure(b, a, 1_500_000);
    expect(a.received).toBe(1_500_000);
    expect(r).toBeGreaterThan(850_000);
    expect(r).toBeLessThan(1_150_000);
  });

  it('changes live: 2 MB/s, then no limit', async () => {
    setRate(MAC_A, 2_000_000);
    await sleep(700);
    const r = await measure(a, b, 3_000_000);
    expect(r).toBeGreaterThan(1_700_000);
    expect(r).toBeLessThan(2_300_000);
    setRate(MAC_A, null);
    await sleep(700);
    expect(await measure(a, b, 4_000_000)).toBeGreaterThan(4_000_000);
  });

  it('b, without a rate file, was never limited', async () => {
    setRate(MAC_A, 1_000_000);
    await sleep(700);
    // b → a would be limited by a's port; b → a third port c is not.
    const c = await Port.open(join(dir, 'lab.sock'), '52:54:00:5a:00:0c');
    c.sock.write(c.frame('ff:ff:ff:ff:ff:ff', 60));
    await sleep(200);
    expect(await measure(b, c, 4_000_000)).toBeGreaterThan(4_000_000);
    c.sock.destroy();
  });
});
