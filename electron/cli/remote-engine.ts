import { connect } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SocketClient } from '../api/socket-client.ts';
import type { Caller } from '../api/define.ts';
import type { DisplayBridge } from '../engine/display/bridge.ts';
import type { ServeEngine } from '../server/server.ts';

// `vireo serve` while the app (or another serve) owns the library: the server fronts the
// owner instead of an engine of its own. The API goes over the owner's socket with the web
// caller attached, so confinement is the owner's to enforce. Screens and consoles: the owner's
// display.open hands out a one-use URL on its loopback bridge; the browser is sent to this
// server's port (the server rewrites the URL), and the upgrade is passed through to that bridge
// here. The server has already checked the page's cookie, Host and Origin.

const SESSION_ROUTE = /^\/(display|console)\//;
const DROPPED_HEADERS = new Set(['host', 'origin', 'cookie']);

export interface RemoteServeEngine extends ServeEngine {
  dispose(): Promise<void>;
  /** The owner went away (not our own dispose): this server has nothing left to serve. */
  onOwnerGone(listener: () => void): void;
}

export function remoteServeEngine(client: SocketClient, close: () => Promise<void>): RemoteServeEngine {
  let bridgePort: number | null = null;
  let disposing = false;

  const dispatch = async (method: unknown, args: unknown, caller?: Caller) => {
    const out = await client.dispatch(method, args, caller);
    if (out.ok && (method === 'display.open' || method === 'console.open')) {
      // The owner's bridge listens on 127.0.0.1 only; where, we learn from its URLs.
      try {
        const u = new URL((out.result as { url: string }).url);
        if (u.hostname === '127.0.0.1' && Number(u.port) > 0) bridgePort = Number(u.port);
      } catch {
        /* not a URL: nothing to learn */
      }
    }
    return out;
  };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (!SESSION_ROUTE.test(req.url ?? '')) return false;
    const port = bridgePort;
    if (!port) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\nask display.open or console.open for a URL first\n');
      return true;
    }
    const up = connect(port, '127.0.0.1');
    const drop = () => {
      up.destroy();
      socket.destroy();
    };
    up.once('error', drop);
    socket.once('error', drop);
    up.once('connect', () => {
      // The same request, addressed to the bridge: its Host, and no Origin or cookie (those
      // were this server's to check, and the bridge accepts a local caller without Origin).
      const lines = [`${req.method ?? 'GET'} ${req.url} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        if (!DROPPED_HEADERS.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
      }
      up.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) up.write(head);
      socket.pipe(up);
      up.pipe(socket);
    });
    up.once('close', () => socket.destroy());
    socket.once('close', () => up.destroy());
    return true;
  };

  return {
    dispatch,
    bus: client.bus,
    // Only handleUpgrade is what the server asks of a bridge.
    bridge: { handleUpgrade } as unknown as DisplayBridge,
    dispose: () => {
      disposing = true;
      return close();
    },
    onOwnerGone: (listener) => void client.closed.then(() => disposing || listener()),
  };
}
