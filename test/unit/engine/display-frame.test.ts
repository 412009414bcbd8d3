import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { UpstreamReader, frameInPlace } from '../../../electron/engine/display/upstream.ts';

// ws's frame parser (ws.Receiver), which @types/ws does not describe.
type FrameParser = Writable & { on(event: 'message', l: (data: Buffer, isBinary: boolean) => void): FrameParser; on(event: 'error', l: (e: Error) => void): FrameParser };
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (opts: { isServer: boolean; binaryType: 'nodebuffer' }) => FrameParser };

// The display bridge sends each read from QEMU as one WebSocket frame whose header is written
// in front of the read, in the read buffer itself (issue 21: CPU per 100 MB against
// websockify). ws's own frame parser, as a browser's side would run it, reads them back.

/** One read of `n` bytes through an UpstreamReader, as the socket's onread would do it. */
function readOf(n: number): Buffer {
  const reader = new UpstreamReader();
  let got: Buffer | null = null;
  reader.deliver = (chunk) => {
    got = chunk;
    return { more: true, held: false };
  };
  const buf = reader.nextBuffer();
  for (let i = 0; i < n; i++) buf[i] = (i * 7 + n) & 0xff;
  reader.onRead(n, buf);
  return got!;
}

function parse(frames: Buffer[]): Promise<{ data: Buffer; binary: boolean }[]> {
  return new Promise((resolve, reject) => {
    const out: { data: Buffer; binary: boolean }[] = [];
    const r = new Receiver({ isServer: false, binaryType: 'nodebuffer' });
    r.on('message', (data: Buffer, binary: boolean) => {
      out.push({ data: Buffer.from(data), binary });
      if (out.length === frames.length) resolve(out);
    });
    r.on('error', reject);
    for (const f of frames) r.write(f);
  });
}

describe('display frames written in place', () => {
  it('frames reads of every header size as unmasked binary messages, in the read buffer (no copy)', async () => {
    const sizes = [1, 125, 126, 65535, 65536, 256 * 1024];
    const reads = sizes.map(readOf);
    const frames = reads.map((chunk) => {
      const f = frameInPlace(chunk);
      expect(f.buffer).toBe(chunk.buffer);
      expect(f.byteOffset + f.length).toBe(chunk.byteOffset + chunk.length);
      expect(f.length - chunk.length).toBe(chunk.length < 126 ? 2 : chunk.length < 65536 ? 4 : 10);
      expect(f[1]! & 0x80).toBe(0); // a server's frames are not masked
      return Buffer.from(f); // copies: a reader's buffer is reused by its next read
    });
    const msgs = await parse(frames);
    expect(msgs.map((m) => m.binary)).toEqual(sizes.map(() => true));
    msgs.forEach((m, i) => expect(m.data.equals(reads[i]!)).toBe(true));
  });

  it('refuses memory that is not a reader\'s read (no room of its own before it)', () => {
    expect(() => frameInPlace(Buffer.from('not a read'))).toThrow(/not a read of an UpstreamReader/);
    expect(() => frameInPlace(Buffer.alloc(64 * 1024).subarray(10))).toThrow(/not a read/);
    const chunk = readOf(100);
    expect(() => frameInPlace(chunk.subarray(1))).toThrow(/not a read/);
  });
});
