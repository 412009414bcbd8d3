import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VireoError, toWireError, type ErrorCode } from '../api/errors.ts';
import { MAX_WRITE_BYTES, V86_BIOS_FILES, biosPath, type BiosName, type WasmDrives } from '../engine/wasm/drives.ts';
import { sameOrigin } from './guard.ts';

// HTTP routes of the wasm/v86 backend (issue 20), behind the server's token like everything
// else on it (server.ts calls these only for authorised requests):
//   GET  /wasm/bios/bios.bin | vgabios.bin         SeaBIOS from the host's package
//   POST /wasm/vms/<id>/hold[?lease=..][&take=1]  take or renew the VM's lease (JSON)
//   DELETE /wasm/vms/<id>/hold?lease=..           give it back
//   GET|HEAD /wasm/vms/<id>/drives/<drive>         the image, with Range requests (206)
//   PUT  /wasm/vms/<id>/drives/<drive>?offset=N    changed blocks, X-Vireo-Lease: <lease>
//   GET  /wasm/vms/<id>/snapshots                   the VM's v86 snapshots (JSON)
//   POST /wasm/vms/<id>/snapshots?name=..          take one: body = v86's state (holder only)
//   PUT  /wasm/vms/<id>/snapshots/<s>/thumb         its thumbnail (PNG); GET reads it
//   GET  /wasm/vms/<id>/snapshots/<s>/state         its v86 state
//   POST /wasm/vms/<id>/snapshots/<s>/restore       put its drives back (holder only)
// The image is never sent whole unless asked: v86 reads it in ranges as the guest does.

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400, BAD_REQUEST: 400, UNAUTHORIZED: 403, NOT_FOUND: 404, INVALID_STATE: 409, UNSUPPORTED: 501, BROKEN_CONFIG: 409,
};
const HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };
const ROUTE = /^\/wasm\/vms\/([0-9a-f-]{36})\/(hold|drives\/([a-z0-9]{1,16}))$/;
const SNAP_ROUTE = /^\/wasm\/vms\/([0-9a-f-]{36})\/snapshots(?:\/([a-z0-9]{12})\/(state|thumb|restore))?$/;
const MAX_THUMB_BYTES = 4 * 1024 * 1024;

function fail(res: ServerResponse, e: unknown) {
  const w = toWireError(e);
  if (res.headersSent) return void res.destroy();
  res.writeHead(STATUS[w.code] ?? 500, { 'Content-Type': 'application/json', ...HEADERS }).end(JSON.stringify({ error: w }));
}

function json(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'Content-Type': 'application/json', ...HEADERS }).end(JSON.stringify(body));
}

/** `bytes=a-b` (one range; b may be absent) → [start, end] inclusive, clamped to the size; null: not satisfiable. */
export function parseRange(header: string, size: number): [number, number] | null {
  const m = /^bytes=(\d{1,16})-(\d{0,16})$/.exec(header.trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start <= end && start < size ? [start, end] : null;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new VireoError('INVALID_ARGUMENT', `a block write may carry at most ${limit} bytes: send the changed blocks in smaller pieces`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, size: number, type: string) {
  const base = { 'Content-Type': type, 'Accept-Ranges': 'bytes', ...HEADERS };
  const range = req.headers.range;
  if (range !== undefined) {
    const r = parseRange(range, size);
    if (!r) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}`, ...HEADERS }).end();
      return;
    }
    res.writeHead(206, { ...base, 'Content-Range': `bytes ${r[0]}-${r[1]}/${size}`, 'Content-Length': String(r[1] - r[0] + 1) });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(path, { start: r[0], end: r[1] }).on('error', () => res.destroy()).pipe(res);
    return;
  }
  res.writeHead(200, { ...base, 'Content-Length': String(size) });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(path).on('error', () => res.destroy()).pipe(res);
}

/** A page as a second page (and the library) is told of it: its browser and its address. */
export function clientLabel(req: IncomingMessage): string {
  const ua = req.headers['user-agent'] ?? '';
  const browser = /\bElectron\//.test(ua) ? 'the Vireo window' : /\bEdg\//.test(ua) ? 'Edge' : /\bFirefox\//.test(ua) ? 'Firefox' : /\b(HeadlessChrome|Chromium|Chrome)\//.exec(ua)?.[1]?.replace('HeadlessChrome', 'Chrome') ?? (/\bSafari\//.test(ua) ? 'Safari' : 'a browser');
  const addr = (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
  return `${browser} at ${addr}`;
}

/** Handles a /wasm/ request of an authorised client. */
export async function wasmRoute(drives: WasmDrives | undefined, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  try {
    const method = req.method ?? 'GET';
    // A write from another site's page would carry the cookie only if SameSite failed; check anyway.
    if (method !== 'GET' && method !== 'HEAD' && !sameOrigin(req)) throw new VireoError('UNAUTHORIZED', 'a write from a page of another origin');
    const bios = /^\/wasm\/bios\/([a-z]+\.bin)$/.exec(url.pathname);
    if (bios) {
      if (!Object.hasOwn(V86_BIOS_FILES, bios[1]!)) throw new VireoError('NOT_FOUND', `no BIOS image ${bios[1]}: there are ${Object.keys(V86_BIOS_FILES).join(', ')}`);
      const p = biosPath(bios[1] as BiosName);
      return await sendFile(req, res, p, (await stat(p)).size, 'application/octet-stream');
    }
    if (!drives) throw new VireoError('UNSUPPORTED', 'not yet: this server reaches the library through another engine (the owner), which does not serve wasm/v86 drives; stop the other Vireo and serve again');
    const snap = SNAP_ROUTE.exec(url.pathname);
    if (snap) return await snapshotRoute(drives, req, res, url, snap[1]!, snap[2], snap[3]);
    const m = ROUTE.exec(url.pathname);
    if (!m) throw new VireoError('NOT_FOUND', `no such wasm route: ${url.pathname.slice(0, 100)}`);
    const [, id, what, drive] = m as unknown as [string, string, string, string | undefined];
    if (what === 'hold') {
      const lease = url.searchParams.get('lease') ?? undefined;
      if (method === 'POST') return json(res, drives.hold(id, { lease, takeOver: url.searchParams.get('take') === '1', who: clientLabel(req) }));
      if (method === 'DELETE') {
        drives.release(id, lease ?? '');
        return json(res, { ok: true });
      }
      throw new VireoError('BAD_REQUEST', `${method} on a lease: use POST (take or renew) or DELETE (release)`);
    }
    if (method === 'GET' || method === 'HEAD') {
      const d = await drives.drive(id, drive!);
      return await sendFile(req, res, d.path, d.size, 'application/octet-stream');
    }
    if (method === 'PUT') {
      const offset = Number(url.searchParams.get('offset'));
      const lease = req.headers['x-vireo-lease'];
      const body = await readBody(req, MAX_WRITE_BYTES);
      await drives.write(id, drive!, typeof lease === 'string' ? lease : undefined, offset, body);
      return json(res, { ok: true, offset, length: body.length });
    }
    throw new VireoError('BAD_REQUEST', `${method} on a drive: use GET/HEAD (ranges) or PUT (changed blocks)`);
  } catch (e) {
    fail(res, e);
  }
}

async function snapshotRoute(drives: WasmDrives, req: IncomingMessage, res: ServerResponse, url: URL, id: string, snap: string | undefined, what: string | undefined) {
  const method = req.method ?? 'GET';
  const lease = typeof req.headers['x-vireo-lease'] === 'string' ? req.headers['x-vireo-lease'] : undefined;
  const s = drives.snapshots;
  if (!snap) {
    if (method === 'GET') return json(res, await s.list(id));
    if (method === 'POST') return json(res, await s.save(id, lease, url.searchParams.get('name') ?? '', req, null));
  } else if (what === 'state' && method === 'GET') {
    const p = await s.statePath(id, snap);
    return await sendFile(req, res, p, (await stat(p)).size, 'application/octet-stream');
  } else if (what === 'thumb' && method === 'GET') {
    const png = await s.thumbnail(id, snap);
    if (!png) throw new VireoError('NOT_FOUND', `snapshot ${snap} has no thumbnail`);
    res.writeHead(200, { 'Content-Type': 'image/png', ...HEADERS }).end(png);
    return;
  } else if (what === 'thumb' && method === 'PUT') {
    return json(res, await s.setThumbnail(id, lease, snap, await readBody(req, MAX_THUMB_BYTES)));
  } else if (what === 'restore' && method === 'POST') {
    return json(res, await s.restoreDrives(id, lease, snap));
  }
  throw new VireoError('BAD_REQUEST', `${method} is not an operation on ${url.pathname.slice(0, 100)}`);
}
