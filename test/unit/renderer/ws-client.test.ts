import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { apiUrlFor, wsClient, type WsApiClient } from '../../../renderer/src/api/client.ts';

// The renderer's WebSocket transport against a real socket server speaking the wire format.

let server: WebSocketServer | null = null;
let client: WsApiClient | null = null;

afterEach(async () => {
  client?.close();
  client = null;
  if (server) {
    for (const c of server.clients) c.terminate();
    await new Promise((r) => server!.close(r));
    server = null;
  }
});

async function start(onFrame: (ws: ServerSocket, msg: { id: number; method: string; args: unknown }) => void) {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (ws) => ws.on('message', (d) => onFrame(ws, JSON.parse(String(d)))));
  await new Promise((r) => server!.once('listening', r));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
}

describe('wsClient', () => {
  it('routes replies by id, turns error frames into wire errors, and dispatches events', async () => {
    const url = await start((ws, m) => {
      if (m.method === 'host.info') {
        ws.send(JSON.stringify({ event: 'vm.changed', payload: { id: 'x' } }));
        // Reply out of order to show routing is by id, not by arrival.
        setTimeout(() => ws.send(JSON.stringify({ id: m.id, result: { cpus: 2 } })), 20);
      } else {
        ws.send(JSON.stringify({ id: m.id, error: { code: 'NOT_FOUND', message: `no VM "${(m.args as { vm: string }).vm}"` } }));
      }
    });
    client = wsClient(url);
    const seen: unknown[] = [];
    client.on('vm.changed', (p) => seen.push(p));
    const [info, err] = await Promise.all([
      client.call('host.info', {}),
      client.call('vms.get', { vm: 'nope' }).catch((e: unknown) => e),
    ]);
    expect(info).toEqual({ cpus: 2 });
    expect(err).toEqual({ code: 'NOT_FOUND', message: 'no VM "nope"' });
    expect(seen).toEqual([{ id: 'x' }]);
  });

  it('rejects pending calls when the connection drops, then reconnects', async () => {
    let connections = 0;
    const url = await start((ws, m) => {
      if (m.method === 'vms.start') ws.terminate(); // never answers
      else ws.send(JSON.stringify({ id: m.id, result: 'ok' }));
    });
    server!.on('connection', () => connections++);
    const statuses: string[] = [];
    client = wsClient(url, { minDelayMs: 20, onStatus: (s) => statuses.push(s) });
    await expect(client.call('vms.start', { vm: 'a' })).rejects.toEqual({ code: 'INTERNAL', message: 'connection to Vireo lost' });
    // Calls made while offline are queued and sent once the socket is back.
    await expect(client.call('vms.list', {})).resolves.toBe('ok');
    expect(connections).toBe(2);
    expect(statuses).toContain('closed');
    expect(statuses.at(-1)).toBe('open');
  });

  it('builds the endpoint from the page location, keeping the token', () => {
    expect(apiUrlFor({ origin: 'http://127.0.0.1:8080', search: '?token=a b' })).toBe('ws://127.0.0.1:8080/api?token=a%20b');
    expect(apiUrlFor({ origin: 'https://host', search: '' })).toBe('wss://host/api');
  });
});
