import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

// What `vireo serve` checks on every request before it looks at a token: a request line and
// cookies that parse (a malformed one is the client's mistake, answered 400/401, never a
// throw), a Host header naming this server (DNS rebinding: a page on evil.example whose name
// now resolves to us sends `Host: evil.example`), and an Origin that is this server's own.

/**
 * The request target as a URL, or null when it does not parse (`GET http://[ HTTP/1.1`) or is
 * not a path: this is no proxy, and an absolute-form target (`GET http://evil.example/api`)
 * would name a host that the Host check never saw.
 */
export function safeUrl(raw: string | undefined): URL | null {
  if (raw !== undefined && !raw.startsWith('/')) return null;
  try {
    // Appended, not resolved: "//evil.example/x" stays a path instead of becoming a host.
    return new URL(`http://localhost${raw ?? '/'}`);
  } catch {
    return null;
  }
}

/** One cookie's value, or null when absent or not valid percent-encoding (`%E0%A4%A`). */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return null;
    }
  }
  return null;
}

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach. */
export function isLoopbackName(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function hostForm(name: string): string {
  const h = name.toLowerCase().replace(/^\[|\]$/g, '');
  return isIP(h) === 6 ? `[${h}]` : h;
}

/**
 * The Host header values this server answers to: its bound name or address with its port;
 * localhost, 127.0.0.1 and [::1] too when bound to loopback; every interface address and the
 * machine's name when bound to all interfaces; and the names the owner added (`--allow-host`,
 * for a DNS name or a reverse proxy). Port 80 may be left out, as browsers do.
 */
export function allowedHostHeaders(bound: string, port: number, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>();
  const b = bound.toLowerCase();
  if (WILDCARD.has(b)) {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (!a.address.includes('%')) names.add(hostForm(a.address));
    }
    names.add(hostForm(hostname()));
  } else {
    names.add(hostForm(b));
  }
  if (WILDCARD.has(b) || isLoopbackName(b)) for (const n of ['localhost', '127.0.0.1', '[::1]']) names.add(n);
  const out = new Set<string>();
  for (const n of names) {
    out.add(`${n}:${port}`);
    if (port === 80) out.add(n);
  }
  for (const e of extra) {
    const x = e.trim().toLowerCase();
    if (!x) continue;
    // "name:port" as given; a bare name (or [v6]) gets this server's port.
    if (/^(\[[^\]]+\]|[^:[\]]+):\d+$/.test(x)) out.add(x);
    else out.add(`${hostForm(x)}:${port}`);
  }
  return out;
}

export function hostAllowed(allowed: ReadonlySet<string>, header: string | undefined): boolean {
  return header !== undefined && allowed.has(header.toLowerCase());
}

/**
 * Same-origin pages only: an Origin (browsers always send one on a WebSocket handshake) must
 * be this server's scheme and checked Host. No Origin: a non-browser client (the CLI, a
 * script, a test), which carries no ambient cookie of a victim. `null` matches nothing.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host?.toLowerCase();
  const o = origin.toLowerCase();
  return host !== undefined && (o === `http://${host}` || o === `https://${host}`);
}

/**
 * The origin the browser reached us at, as a WebSocket base (`ws://host:port`): display and
 * console URLs handed to a web client point back at this server, never at a loopback port
 * the remote browser cannot reach. https when a TLS proxy sits in front (the page's Origin).
 */
export function wsBase(req: IncomingMessage): string {
  const secure = req.headers.origin?.toLowerCase().startsWith('https://') ?? false;
  return `${secure ? 'wss' : 'ws'}://${req.headers.host ?? '127.0.0.1'}`;
}
