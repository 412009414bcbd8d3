import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Engine } from '../engine/index.ts';
import { isEventName } from '../api/contract.ts';
import { CSP } from '../shared/csp.ts';

// `vireo serve`: the built renderer over HTTP and the API over a WebSocket, both behind a
// random token (printed once, in the URL). The token is exchanged for an HttpOnly,
// SameSite=Strict cookie on first load so it leaves the address bar and is never readable by
// page scripts. Binds 127.0.0.1 unless told otherwise.

export const MAX_FRAME_BYTES = 1024 * 1024;
const COOKIE = 'vireo_token';

export interface ServeOptions {
  engine: Engine;
  host?: string;
  port?: number;
  token?: string;
  staticDir: string;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | null {
  const raw = req.headers.cookie;
  if (!raw) return null;
  for (const part of raw.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** Same-origin browsers only (a page elsewhere must not drive the API with our cookie). */
function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // non-browser clients (CLI tests, scripts) send none
  const host = req.headers.host;
  return origin === `http://${host}` || origin === `https://${host}`;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Content-Security-Policy': CSP,
};

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const host = opts.host ?? '127.0.0.1';
  const root = resolve(opts.staticDir);
  const { engine } = opts;

  const authorized = (req: IncomingMessage, url: URL) =>
    tokenMatches(url.searchParams.get('token'), token) || tokenMatches(cookieToken(req), token);

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!authorized(req, url)) return deny(res);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', ...SECURITY_HEADERS }).end('method not allowed\n');
        return;
      }
      if (url.searchParams.has('token')) {
        // Trade the URL token for a cookie and drop it from the address bar.
        res.writeHead(303, {
          'Set-Cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
          Location: url.pathname,
          ...SECURITY_HEADERS,
        });
        res.end();
        return;
      }
      await serveStatic(root, url.pathname, res);
    } catch {
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end('internal error\n');
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api') {
      // The display bridge has its own server; nothing else upgrades here.
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (!authorized(req, url) || !originAllowed(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nmissing or wrong token\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
    ws.on('message', async (data, isBinary) => {
      const reply = (msg: unknown) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
      };
      if (isBinary) return reply({ id: null, error: { code: 'BAD_REQUEST', message: 'binary frames are not accepted: send JSON text' } });
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return reply({ id: null, error: { code: 'BAD_REQUEST', message: 'frame is not valid JSON' } });
      }
      const env = msg as { id?: unknown; method?: unknown; args?: unknown };
      const id = env && typeof env === 'object' ? env.id : undefined;
      if (!env || typeof env !== 'object' || Array.isArray(env) || !(typeof id === 'number' || (typeof id === 'string' && id.length <= 64))) {
        return reply({ id: null, error: { code: 'BAD_REQUEST', message: 'a request is {"id": number|string, "method": string, "args": object}' } });
      }
      if (typeof env.method !== 'string') return reply({ id, error: { code: 'BAD_REQUEST', message: 'request has no "method" string' } });
      const out = await engine.dispatch(env.method, env.args);
      reply(out.ok ? { id, result: out.result } : { id, error: out.error });
    });
  });

  const offEvents = engine.bus.onAny((event, payload) => {
    if (!isEventName(event)) return;
    const frame = JSON.stringify({ event, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(frame);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${encodeURIComponent(token)}`,
    port,
    host,
    token,
    async close() {
      offEvents();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function deny(res: ServerResponse) {
  res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
  res.end('Unauthorized: open the URL that `vireo serve` printed (it carries the access token).\n');
}

async function serveStatic(root: string, pathname: string, res: ServerResponse) {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400, SECURITY_HEADERS).end('bad path\n');
    return;
  }
  if (rel.endsWith('/')) rel += 'index.html';
  const file = normalize(join(root, rel));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403, SECURITY_HEADERS).end('forbidden\n');
    return;
  }
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) {
    if (rel === '/index.html') {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end('The renderer is not built: run `npm run build` first.\n');
      return;
    }
    res.writeHead(404, SECURITY_HEADERS).end('not found\n');
    return;
  }
  const body = await readFile(file);
  res.writeHead(200, {
    'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
    'Cache-Control': extname(file) === '.html' ? 'no-store' : 'private, max-age=3600',
    ...SECURITY_HEADERS,
  });
  res.end(body);
}
