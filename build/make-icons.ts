// Renders build/logo.ts to build/icon.svg, build/icon.png (512) and build/icons/<N>x<N>.png
// without any image tool: a tiny scanline-free rasterizer (4×4 supersampling per pixel) and a
// PNG encoder on node:zlib. Deterministic: the same logo gives byte-identical files.
// Run: npx tsx build/make-icons.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { CANVAS, LOGO, type Shape } from './logo.ts';

export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512] as const;

export function svgFor(shapes: readonly Shape[] = LOGO): string {
  const body = shapes.map((s) => {
    if (s.kind === 'rect') return `<rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" rx="${s.r}" fill="${s.fill}"/>`;
    if (s.kind === 'ellipse') return `<ellipse cx="${s.cx}" cy="${s.cy}" rx="${s.rx}" ry="${s.ry}" transform="rotate(${s.rot} ${s.cx} ${s.cy})" fill="${s.fill}"/>`;
    return `<polygon points="${s.points.map(([x, y]) => `${x},${y}`).join(' ')}" fill="${s.fill}"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CANVAS} ${CANVAS}" width="${CANVAS}" height="${CANVAS}">\n<title>Vireo</title>\n${body.map((l) => `  ${l}`).join('\n')}\n</svg>\n`;
}

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

function inside(s: Shape, x: number, y: number): boolean {
  if (s.kind === 'rect') {
    if (x < s.x || y < s.y || x > s.x + s.w || y > s.y + s.h) return false;
    const cx = Math.min(Math.max(x, s.x + s.r), s.x + s.w - s.r);
    const cy = Math.min(Math.max(y, s.y + s.r), s.y + s.h - s.r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= s.r * s.r;
  }
  if (s.kind === 'ellipse') {
    const a = (-s.rot * Math.PI) / 180;
    const dx = x - s.cx;
    const dy = y - s.cy;
    const u = dx * Math.cos(a) - dy * Math.sin(a);
    const v = dx * Math.sin(a) + dy * Math.cos(a);
    return (u / s.rx) ** 2 + (v / s.ry) ** 2 <= 1;
  }
  // even-odd ray casting
  let hit = false;
  const p = s.points;
  for (let i = 0, j = p.length - 1; i < p.length; j = i++) {
    const [xi, yi] = p[i]!;
    const [xj, yj] = p[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

/** RGBA pixels of the logo at size×size, straight (non-premultiplied) alpha. */
export function rasterize(size: number, shapes: readonly Shape[] = LOGO, ss = 4): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  const scale = CANVAS / size;
  const colors = shapes.map((s) => hex(s.fill));
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) * scale;
          const y = (py + (sy + 0.5) / ss) * scale;
          for (let i = shapes.length - 1; i >= 0; i--) {
            if (inside(shapes[i]!, x, y)) {
              const c = colors[i]!;
              r += c[0]; g += c[1]; b += c[2]; a += 1;
              break;
            }
          }
        }
      }
      const o = (py * size + px) * 4;
      if (a > 0) {
        out[o] = Math.round(r / a);
        out[o + 1] = Math.round(g / a);
        out[o + 2] = Math.round(b / a);
      }
      out[o + 3] = Math.round((255 * a) / (ss * ss));
    }
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** An 8-bit RGBA PNG (filter 0 on every row: simple and deterministic). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0;
    raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

export function makeIcons(buildDir: string): string[] {
  const written: string[] = [];
  const put = (rel: string, data: string | Buffer) => {
    const f = join(buildDir, rel);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, data);
    written.push(f);
  };
  put('icon.svg', svgFor());
  for (const n of ICON_SIZES) {
    const png = encodePng(n, n, rasterize(n));
    put(join('icons', `${n}x${n}.png`), png);
    if (n === 512) put('icon.png', png);
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of makeIcons(dirname(fileURLToPath(import.meta.url)))) console.log(f);
}
