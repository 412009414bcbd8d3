import { randomBytes, timingSafeEqual } from 'node:crypto';

// Who may open a VM's screen or console through the bridge: whoever holds a fresh token that
// `display.open`/`console.open` handed out for that VM and that kind, from a page we trust.

export type SessionKind = 'vnc' | 'serial';

/** URL path segment of each kind: /display/<vmId> for VNC, /console/<vmId> for serial. */
export const KIND_PATH: Record<SessionKind, string> = { vnc: 'display', serial: 'console' };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Browsers always send Origin on a WebSocket handshake, so a page on another site that learns
 * a token (or guesses a port) is refused here. Allowed: no Origin (a non-browser client such as
 * the CLI or a test), `file://` (an Electron page loaded from disk), any loopback http(s)
 * origin (the dev server) and origins the caller lists (the desktop's `app://vireo`).
 * Refused: `null`, the opaque origin of sandboxed iframes, data: URLs and redirected pages,
 * which any web site can produce, so it identifies nobody.
 */
export function isAllowedOrigin(origin: string | undefined, extra: readonly string[] = []): boolean {
  if (origin === undefined || origin === '') return true;
  if (origin === 'null') return false;
  if (origin.startsWith('file://')) return true;
  if (extra.includes(origin)) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  return (u.protocol === 'http:' || u.protocol === 'https:') && LOOPBACK_HOSTS.has(u.hostname);
}

/**
 * The bridge's own listener answers only to its loopback name and port: a page on a rebound
 * DNS name (evil.example → 127.0.0.1) sends that name as Host and is refused before any token
 * is looked at.
 */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return [...LOOPBACK_HOSTS].some((name) => h === `${name}:${port}`);
}

interface Grant {
  kind: SessionKind;
  vmId: string;
  token: Buffer;
  expiresAt: number;
}

export class TokenStore {
  private grants: Grant[] = [];

  issue(kind: SessionKind, vmId: string, ttlMs: number, now = Date.now()): { token: string; expiresAt: number } {
    this.purge(now);
    const token = randomBytes(32);
    const expiresAt = now + ttlMs;
    this.grants.push({ kind, vmId, token, expiresAt });
    return { token: token.toString('hex'), expiresAt };
  }

  /**
   * Whether `token` is a live grant for this kind and VM. Every candidate is compared in
   * constant time, and a malformed token still costs one comparison, so response time says
   * nothing about how much of a guess was right.
   */
  check(kind: SessionKind, vmId: string, token: string | null, now = Date.now()): boolean {
    return this.find(kind, vmId, token, now) !== null;
  }

  /**
   * Like check, and the grant is spent: a token opens exactly one connection, so a URL that
   * leaks after use (a proxy log, the browser history, a screen share) opens nothing.
   */
  consume(kind: SessionKind, vmId: string, token: string | null, now = Date.now()): boolean {
    const g = this.find(kind, vmId, token, now);
    if (!g) return false;
    this.grants = this.grants.filter((x) => x !== g);
    return true;
  }

  private find(kind: SessionKind, vmId: string, token: string | null, now: number): Grant | null {
    const given = token && /^[0-9a-f]{64}$/i.test(token) ? Buffer.from(token, 'hex') : randomBytes(32);
    let hit: Grant | null = null;
    for (const g of this.grants) {
      const same = timingSafeEqual(g.token, given);
      if (same && g.kind === kind && g.vmId === vmId && g.expiresAt > now) hit = g;
    }
    return token !== null ? hit : null;
  }

  revoke(vmId?: string): void {
    this.grants = vmId === undefined ? [] : this.grants.filter((g) => g.vmId !== vmId);
  }

  purge(now = Date.now()): void {
    this.grants = this.grants.filter((g) => g.expiresAt > now);
  }

  get size(): number {
    return this.grants.length;
  }
}
