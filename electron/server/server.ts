import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Engine } from '../engine/index.ts';
import { refuseUpgrade, type DisplayBridge } from '../engine/display/bridge.ts';
import { isEventName } from '../api/contract.ts';
import type { DispatchOutcome } from '../api/dispatch.ts';
import type { WebCaller } from '../api/define.ts';
import { webCaller } from '../engine/policy/confine.ts';
import { allowedHostHeaders, cookieValue, hostAllowed, safeUrl, sameOrigin, wsBase } from './guard.ts';
import { CSP } from '../shared/csp.ts';
import type { WasmDrives } from '../engine/wasm/drives.ts';
import { wasmRoute } from './wasm-routes.ts';
import { pageAnswers, withPageAnswers } from './page-answers.ts';
import type { Migrations } from '../engine/migrate/service.ts';
import { MIGRATE_PATH } from '../engine/migrate/channel.ts';
import { migrateUpgrade } from './migrate-route.ts';

// `vireo serve`: the built renderer over HTTP and the API over a WebSocket, both behind a
// random token (printed once, in the URL). The token is exchanged for an HttpOnly,
// SameSite=Strict cookie on first load so it leaves the address bar and is never readable by
// page scripts. Binds 127.0.0.1 unless told otherwise. The VM screens and consoles travel
// through this same port and origin (/display/<vm>, /console/<vm>), so a remote browser
// needs nothing but this one address.

export const MAX_FRAME_BYTES = 1024 * 1024;
const COOKIE = 'vireo_token';

/**
 * What the server needs of an engine: the dispatch, the events and, for screens and consoles,
 * something that takes their upgrades (the engine's bridge, or a pass-through to the owner's).
 */
export type ServeEngine = Pick<Engine, 'dispatch' | 'bus'> & { bridge?: Pick<DisplayBridge, 'handleUpgrade'>; wasm?: WasmDrives; migrations?: Pick<Migrations, 'handleUpgrade' | 'secret'> };

export interface ServeOptions {
  engine: ServeEngine;
  host?: string;
  port?: number;
  token?: string;
  staticDir: string;
  /** Host names besides the bound address that this server answers to (DNS name, proxy) */
  allowedHosts?: string[];
  /** what API clients may reach (README "Security model"); default: the user's home, no extra QEMU args */
  caller?: WebCaller;
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

const cookieToken = (req: IncomingMessage) => cookieValue(req.headers.cookie, COOKIE);

/** Display and console sessions are opened by the engine with its loopback bridge URL. */
const SESSION_METHODS = new Set(['display.open', 'console.open', 'hosts.display', 'hosts.console']);

/**
 * A web client reaches the screen through this server, so the session URL it gets names this
 * server's origin (as the browser reached it) with the bridge's path and one-use token.
 */
function forWeb(method: string, out: DispatchOutcome, base: string): DispatchOutcome {
  if (!out.ok || !SESSION_METHODS.has(method)) return out;
  const session = out.result as { url: string };
  let u: URL;
  try {
    u = new URL(session.url); // the engine's own ws://127.0.0.1:<port>/... (safeUrl takes paths only)
  } catch {
    return out;
  }
  return { ok: true, result: { ...session, url: `${base}${u.pathname}${u.search}` } };
}

const SESSION_ROUTE = /^\/(display|console)\//;

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
  const webAccess = opts.caller ?? webCaller();

  const authorized = (req: IncomingMessage, url: URL) =>
    tokenMatches(url.searchParams.get('token'), token) || tokenMatches(cookieToken(req), token);
  // Filled once the port is known (port 0 picks one); no request arrives before that.
  let hosts: ReadonlySet<string> = new Set();

  const server = createServer(async (req, res) => {
    try {
      if (!hostAllowed(hosts, req.headers.host)) return misdirected(res, req.headers.host);
      const url = safeUrl(req.url);
      if (!url) {
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('malformed request target\n');
        return;
      }
      if (!authorized(req, url)) return deny(res);
      // The wasm/v86 backend's BIOS, leases and drives (wasm-routes.ts), behind the same token.
      if (url.pathname.startsWith('/wasm/')) return await wasmRoute(engine.wasm, req, res, url);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', ...SECURITY_HEADERS }).end('method not allowed\n');
        return;
      }
      const answers = () => pageAnswers(engine.dispatch, webAccess);
      if (url.searchParams.has('token')) {
        // Trade the URL token for a cookie. The page itself comes at once with the cookie, and
        // takes the token out of its address and history before anything else runs
        // (renderer/src/main.tsx): a redirect cost the first paint a round trip (issue 21).
        const cookie = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
        if (url.pathname === '/' || url.pathname === '/index.html') return await serveStatic(root, url.pathname, res, answers, { 'Set-Cookie': cookie });
        // Any other path is sent to itself without the token.
        res.writeHead(303, {
          'Set-Cookie': cookie,
          // One leading slash: "//evil.example" would be a redirect to another site.
          Location: url.pathname.replace(/^\/+/, '/'),
          ...SECURITY_HEADERS,
        });
        res.end();
        return;
      }
      await serveStatic(root, url.pathname, res, answers);
    } catch {
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end('internal error\n');
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    // Node removes its own error listener from a socket it hands to 'upgrade': a client that
    // resets now would otherwise throw from the event loop and take the server down.
    socket.on('error', () => {});
    try {
      if (!hostAllowed(hosts, req.headers.host)) {
        refuseUpgrade(socket, 421, 'Misdirected Request', `this server does not answer to Host ${String(req.headers.host).slice(0, 100)}: use the address \`vireo serve\` printed`);
        return;
      }
      const url = safeUrl(req.url);
      if (!url) {
        refuseUpgrade(socket, 400, 'Bad Request', 'malformed request target');
        return;
      }
      // Another Vireo engine moving a VM here: paired by its secret, not the token (migrate-route.ts).
      if (url.pathname === MIGRATE_PATH) return migrateUpgrade(engine.migrations, req, socket, head);
      const session = SESSION_ROUTE.test(url.pathname);
      if (url.pathname !== '/api' && !session) {
        refuseUpgrade(socket, 404, 'Not Found', 'nothing upgrades here: /api, /display/<vm> and /console/<vm> do');
        return;
      }
      // A screen needs the page's cookie as well as its one-use session token; the token
      // parameter on those routes is the session's, not the server's.
      const ok = session ? tokenMatches(cookieToken(req), token) : authorized(req, url);
      if (!ok || !sameOrigin(req)) {
        refuseUpgrade(socket, 401, 'Unauthorized', 'missing or wrong token, or a page of another origin');
        return;
      }
      if (session) {
        const bridge = engine.bridge;
        if (!bridge?.handleUpgrade(req, socket, head, { originAllowed: () => true })) refuseUpgrade(socket, 404, 'Not Found', 'no display here');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch {
      refuseUpgrade(socket, 500, 'Internal Server Error', 'the upgrade failed');
    }
  });

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const base = wsBase(req);
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
    ws.on('message', (data, isBinary) => void onMessage(data, isBinary));
    const reply = (msg: unknown) => {
      if (ws.readyState !== ws.OPEN) return;
      let text: string;
      try {
        text = JSON.stringify(msg);
      } catch {
        text = JSON.stringify({ id: (msg as { id?: unknown }).id ?? null, error: { code: 'INTERNAL', message: 'the result could not be encoded as JSON' } });
      }
      ws.send(text);
    };
    const onMessage = async (data: RawData, isBinary: boolean) => {
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
      let out: DispatchOutcome;
      try {
        // Every API client of this server is a web caller, confined by the owner's settings.
        out = await engine.dispatch(env.method, env.args, webAccess);
      } catch {
        // dispatch turns handler errors into outcomes; this is only a last line of defence.
        out = { ok: false, error: { code: 'INTERNAL', message: 'the request failed unexpectedly' } };
      }
      out = forWeb(env.method, out, base);
      reply(out.ok ? { id, result: out.result } : { id, error: out.error });
    };
  });

  const offEvents = engine.bus.onAny((event, payload) => {
    if (!isEventName(event)) return;
    const frame = JSON.stringify({ event, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(frame);
  });

  // Every connection, upgraded ones included (the API socket, screens and consoles handed to
  // the bridge): close() ends them at once, or a viewer's open socket keeps the server alive.
  const connections = new Set<Duplex>();
  server.on('connection', (c) => {
    connections.add(c);
    c.once('close', () => connections.delete(c));
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHostHeaders(host, port, opts.allowedHosts);
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
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const c of connections) c.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
}

function misdirected(res: ServerResponse, host: string | undefined) {
  res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
  res.end(`This server does not answer to Host ${String(host).slice(0, 100)}: open the address \`vireo serve\` printed (or start it with --allow-host).\n`);
}

function deny(res: ServerResponse) {
  res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
  res.end('Unauthorized: open the URL that `vireo serve` printed (it carries the access token).\n');
}

/** `answers`: the library's first API answers, written into index.html (page-answers.ts). */
async function serveStatic(root: string, pathname: string, res: ServerResponse, answers: () => Promise<Record<string, unknown>>, extra: Record<string, string> = {}) {
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
  const raw = await readFile(file);
  const body = rel === '/index.html' ? withPageAnswers(raw.toString('utf8'), await answers()) : raw;
  res.writeHead(200, {
    'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
    'Cache-Control': extname(file) === '.html' ? 'no-store' : 'private, max-age=3600',
    ...SECURITY_HEADERS,
    ...extra,
  });
  res.end(body);
}
