import { deflateSync } from 'node:zlib';
import { VireoError } from '../../api/errors.ts';

// QEMU 7.2's QMP `screendump` only writes PPM (the `format` argument arrived in 8.0), and the
// UI and the snapshot thumbnails want PNG. A truecolour PNG is a few chunks around a deflated
// stream, so it is written here rather than pulling in an image library.

export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, rows top to bottom */
  rgb: Buffer;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;

/** Parse a binary PPM (P6), the format of QMP `screendump` in QEMU 7.2. */
export function parsePpm(buf: Buffer): RgbImage {
  const bad = (why: string) =>
    new VireoError('INVALID_ARGUMENT', `not a binary PPM (P6) image: ${why}; expected the file written by QMP screendump`, {
      size: buf.length,
    });
  if (buf.length < 2 || buf[0] !== 0x50 || buf[1] !== 0x36) throw bad('it does not start with "P6"');
  let pos = 2;
  const fields: number[] = [];
  while (fields.length < 3) {
    // Header tokens are separated by whitespace; '#' starts a comment up to the end of line.
    while (pos < buf.length) {
      const c = buf[pos]!;
      if (isSpace(c)) pos++;
      else if (c === 0x23) {
        while (pos < buf.length && buf[pos] !== 0x0a && buf[pos] !== 0x0d) pos++;
      } else break;
    }
    const start = pos;
    while (pos < buf.length && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) pos++;
    if (pos === start) throw bad('the header is truncated or has a non-numeric field');
    fields.push(Number(buf.toString('latin1', start, pos)));
  }
  // Exactly one whitespace byte separates the header from the raster.
  if (pos >= buf.length || !isSpace(buf[pos]!)) throw bad('no whitespace after the header');
  pos++;
  const [width, height, maxval] = fields as [number, number, number];
  if (width <= 0 || height <= 0) throw bad(`size ${width}x${height}`);
  if (maxval <= 0 || maxval > 65535) throw bad(`maxval ${maxval}`);
  const bytesPerSample = maxval > 255 ? 2 : 1;
  const need = width * height * 3 * bytesPerSample;
  if (buf.length - pos < need) throw bad(`raster has ${buf.length - pos} bytes, ${width}x${height} needs ${need}`);
  const raster = buf.subarray(pos, pos + need);
  if (bytesPerSample === 1 && maxval === 255) return { width, height, rgb: Buffer.from(raster) };
  // Rare in practice (QEMU writes maxval 255), but a valid PPM: rescale to 8 bits.
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) {
    const v = bytesPerSample === 2 ? raster.readUInt16BE(i * 2) : raster[i]!;
    rgb[i] = Math.round((v * 255) / maxval);
  }
  return { width, height, rgb };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309 / ITU-T V.42), the checksum of every PNG chunk. */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4), data), 0);
  return Buffer.concat([head, data, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Encode 8-bit RGB as a PNG (colour type 2, no interlace). */
export function encodePng(img: RgbImage): Buffer {
  const { width, height, rgb } = img;
  const stride = width * 3;
  if (rgb.length !== stride * height) {
    throw new VireoError('INVALID_ARGUMENT', `RGB buffer has ${rgb.length} bytes, ${width}x${height} needs ${stride * height}`);
  }
  // Filter "Up" (2) on every row after the first: screens are mostly flat areas and text, where
  // vertical differences are zero, so it compresses far better than no filter at a tiny cost.
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const out = y * (stride + 1);
    const row = y * stride;
    if (y === 0) {
      raw[out] = 0;
      rgb.copy(raw, out + 1, row, row + stride);
      continue;
    }
    raw[out] = 2;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) raw[out + 1 + x] = (rgb[row + x]! - rgb[prev + x]!) & 0xff;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Shrink by averaging boxes of source pixels so that the width is at most maxWidth (aspect
 * kept). Averaging, not point sampling, keeps thin text strokes visible in thumbnails.
 */
export function downscale(img: RgbImage, maxWidth: number): RgbImage {
  if (img.width <= maxWidth) return img;
  const width = Math.max(1, Math.floor(maxWidth));
  const height = Math.max(1, Math.round((img.height * width) / img.width));
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * img.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * img.height) / height));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * img.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * img.width) / width));
      let r = 0, g = 0, b = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) {
          const i = (sy * img.width + sx) * 3;
          r += img.rgb[i]!;
          g += img.rgb[i + 1]!;
          b += img.rgb[i + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * width + x) * 3;
      rgb[o] = Math.round(r / n);
      rgb[o + 1] = Math.round(g / n);
      rgb[o + 2] = Math.round(b / n);
    }
  }
  return { width, height, rgb };
}

/** Convert a QMP `screendump` PPM to PNG, optionally shrunk to maxWidth (for thumbnails). */
export function screendumpToPng(ppm: Buffer, opts: { maxWidth?: number } = {}): Buffer {
  let img = parsePpm(ppm);
  if (opts.maxWidth !== undefined) img = downscale(img, opts.maxWidth);
  return encodePng(img);
}
