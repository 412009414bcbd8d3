import { createConnection, createServer } from 'node:net';
import type { WebSocket } from 'ws';

// Talking to `vireo serve` the way the hardening and fuzz tests must: raw bytes (malformed
// requests no HTTP client would send) and JSON-RPC frames over an open API WebSocket.

/**
 * Sends raw bytes to host:port and resolves with what came back until the server closed (or
 * 3 s passed). A connection error with nothing received rejects, unless `lenient` (a fuzzer
 * that resets the server's read side on purpose only cares that the server survives).
 */
export function rawExchange(bytes: string | Buffer, port: number, host = '127.0.0.1', opts: { lenient?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const tcp = createConnection(port, host);
    let got = '';
    const done = () => {
      clearTimeout(timer);
      tcp.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, 3000);
    tcp.on('data', (d: Buffer) => (got += d.toString('latin1')));
    tcp.on('end', done);
    tcp.on('close', done);
    tcp.on('error', (e: NodeJS.ErrnoException) => (got || opts.lenient ? done() : reject(e)));
    tcp.write(bytes);
  });
}

let nextId = 1;

/** One API call over an open /api WebSocket; resolves with the whole reply frame. */
export function wsRpc(ws: WebSocket, method: string, args: unknown = {}): Promise<Record<string, unknown>> {
  const id = nextId++;
  return new Promise((resolve) => {
    const on = (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (m.id === id) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
    ws.send(JSON.stringify({ id, method, args }));
  });
}

/** A TCP port free on 127.0.0.1 right now (bound, then released): for a forward or a test server. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
