import { PassThrough, Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { WasmDrives } from '../engine/wasm/drives.ts';
import { wasmRoute } from './wasm-routes.ts';

// The wasm/v86 routes (wasm-routes.ts) for a transport that speaks fetch's Request/Response:
// the desktop window's app:// protocol (main/protocol.ts), which has no HTTP server and no
// token; what reaches it comes from the app's own pages. The same handler serves both, so the
// desktop window reads the drives in ranges, writes blocks back, holds the lease and takes
// snapshots exactly as a browser page of `vireo serve` does. Plain Node: tested without Electron.

/** Where a desktop window's page is, for the holder of a lease (another tab is told this). */
const LOCAL = 'this computer';

/** A ServerResponse as far as wasmRoute uses one: its head, then its body as a stream. */
class ResponseCollector extends PassThrough {
  statusCode = 200;
  headers: Record<string, string> = {};
  headersSent = false;

  writeHead(status: number, headers: Record<string, string> = {}): this {
    this.statusCode = status;
    this.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    this.headersSent = true;
    return this;
  }
}

/**
 * Serves one /wasm/ request of the app's own origin. A request naming another origin is
 * refused (only the app's pages may write a VM's disk); the app's own counts as same-origin.
 */
export async function wasmFetch(drives: WasmDrives | undefined, request: Request, ownOrigin: string): Promise<Response> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => (headers[k] = v));
  if (headers.origin !== undefined && headers.origin !== ownOrigin) {
    return Response.json({ error: { code: 'UNAUTHORIZED', message: `a request from ${headers.origin.slice(0, 80)}, not from the app's own pages` } }, { status: 403 });
  }
  delete headers.origin; // the app's own page: same-origin, as wasmRoute's check means it
  const body = request.body ? Readable.fromWeb(request.body as WebReadableStream<Uint8Array>) : Readable.from([]);
  const req = Object.assign(body, { method: request.method, headers, url: url.pathname + url.search, socket: { remoteAddress: LOCAL } });
  const res = new ResponseCollector();
  await wasmRoute(drives, req as unknown as IncomingMessage, res as unknown as ServerResponse, url);
  const empty = request.method === 'HEAD' || !res.headersSent;
  if (empty) res.resume();
  return new Response(empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), { status: res.headersSent ? res.statusCode : 500, headers: res.headers });
}
