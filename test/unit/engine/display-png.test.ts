import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import { crc32, downscale, encodePng, parsePpm, PNG_SIGNATURE, screendumpToPng, type RgbImage } from '../../../electron/engine/display/png.ts';

// A PNG reader written against the spec, independent of the encoder: walks the chunks,
// checks every CRC, inflates IDAT and undoes filters 0-4 so the pixels can be compared.
function decodePng(png: Buffer): RgbImage & { chunks: string[] } {
  expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  let pos = 8;
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let width = 0, height = 0;
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    expect(png.readUInt32BE(pos + 8 + len), `CRC of ${type}`).toBe(crc32(png.subarray(pos + 4, pos + 8 + len)));
    chunks.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  expect(raw.length).toBe((stride + 1) * height);
  const rgb = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    expect(f, 'filter type').toBeLessThanOrEqual(4);
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= 3 ? rgb[y * stride + x - 3]! : 0;
      const b = y > 0 ? rgb[(y - 1) * stride + x]! : 0;
      const c = x >= 3 && y > 0 ? rgb[(y - 1) * stride + x - 3]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth;
      rgb[y * stride + x] = (v + pred) & 0xff;
    }
  }
  return { width, height, rgb, chunks };
}

function ppm(width: number, height: number, rgb: Buffer, header?: string): Buffer {
  return Buffer.concat([Buffer.from(header ?? `P6\n${width} ${height}\n255\n`, 'latin1'), rgb]);
}

function noise(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('1234'), Buffer.from('56789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

describe('parsePpm', () => {
  it('reads the header QEMU writes', () => {
    const img = parsePpm(ppm(2, 1, Buffer.from([1, 2, 3, 4, 5, 6])));
    expect(img).toEqual({ width: 2, height: 1, rgb: Buffer.from([1, 2, 3, 4, 5, 6]) });
  });
  it('skips comments and odd whitespace, and rescales other maxvals', () => {
    const img = parsePpm(ppm(1, 1, Buffer.from([0, 7, 15]), 'P6 # made by hand\n1\t1\r\n# max\n15 '));
    expect([...img.rgb]).toEqual([0, 119, 255]);
    const wide = parsePpm(ppm(1, 1, Buffer.from([0xff, 0xff, 0, 0, 0x80, 0x00]), 'P6 1 1 65535\n'));
    expect([...wide.rgb]).toEqual([255, 0, 128]);
  });
  it('refuses what is not a complete P6', () => {
    expect(() => parsePpm(Buffer.from('P3\n1 1\n255\n0 0 0'))).toThrow(/P6/);
    expect(() => parsePpm(ppm(2, 2, Buffer.alloc(5)))).toThrow(/needs 12/);
    expect(() => parsePpm(Buffer.from('P6\n1 x\n255\n'))).toThrow(/non-numeric/);
    expect(() => parsePpm(ppm(0, 1, Buffer.alloc(0)))).toThrow(/size 0x1/);
  });
});

describe('encodePng', () => {
  it('round-trips pixels through an independent decoder (noise and flat areas)', () => {
    for (const [w, h] of [[1, 1], [3, 2], [33, 17]] as const) {
      const rgb = noise(w * h * 3, w * h);
      const out = decodePng(encodePng({ width: w, height: h, rgb }));
      expect(out.chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
      expect(out.width).toBe(w);
      expect(out.height).toBe(h);
      expect(out.rgb.equals(rgb)).toBe(true);
    }
  });
  it('compresses a text-mode-like screen well', () => {
    const w = 720, h = 400;
    const rgb = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y += 16) for (let x = 0; x < w; x += 9) rgb.fill(0xaa, (y * w + x) * 3, (y * w + x) * 3 + 12);
    const png = encodePng({ width: w, height: h, rgb });
    expect(png.length).toBeLessThan(rgb.length / 50);
    expect(decodePng(png).rgb.equals(rgb)).toBe(true);
  });
  it('refuses a buffer of the wrong size', () => {
    expect(() => encodePng({ width: 2, height: 2, rgb: Buffer.alloc(11) })).toThrow(/needs 12/);
  });
});

describe('screendumpToPng', () => {
  it('converts a PPM, and shrinks by box averaging for thumbnails', () => {
    // 4x2: left half black, right half white
    const rgb = Buffer.alloc(4 * 2 * 3);
    for (let y = 0; y < 2; y++) rgb.fill(255, (y * 4 + 2) * 3, (y * 4 + 4) * 3);
    const full = decodePng(screendumpToPng(ppm(4, 2, rgb)));
    expect(full.rgb.equals(rgb)).toBe(true);
    const small = decodePng(screendumpToPng(ppm(4, 2, rgb), { maxWidth: 2 }));
    expect([small.width, small.height]).toEqual([2, 1]);
    expect([...small.rgb]).toEqual([0, 0, 0, 255, 255, 255]);
    const mixed = downscale({ width: 4, height: 2, rgb }, 1);
    expect([...mixed.rgb]).toEqual([128, 128, 128]);
    expect(downscale({ width: 4, height: 2, rgb }, 10).width).toBe(4);
  });
});
