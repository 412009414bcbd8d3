import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { apiUrlFor, bridgeClient, bridgePath, wsClient, type VireoBridge, type WsApiClient } from '../../../renderer/src/api/client.ts';
import { buildPreloadApi, channelFor } from '../../../electron/preload/api.ts';
import { METHOD_NAMES, type MethodName } from '../../../electron/api/contract.ts';

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

// A method of three parts (vms.usb.attach is one to come) must reach the engine whole, through
// both transports. No such method is in the contract yet, so the name is cast.
const THREE_PART = 'vms.usb.attach' as MethodName;

describe('method names with more than one dot', () => {
  it('travel whole over the WebSocket and their replies route back', async () => {
    const seen: string[] = [];
    const url = await start((ws, m) => {
      seen.push(m.method);
      ws.send(JSON.stringify({ id: m.id, result: { method: m.method, args: m.args } }));
    });
    client = wsClient(url);
    const [a, b] = await Promise.all([
      client.call(THREE_PART, { vm: 'x', device: '1-2' } as never),
      client.call('vms.list', {}),
    ]);
    expect(a).toEqual({ method: 'vms.usb.attach', args: { vm: 'x', device: '1-2' } });
    expect(b).toEqual({ method: 'vms.list', args: {} });
    expect(seen.sort()).toEqual(['vms.list', 'vms.usb.attach']);
  });

  it('split at the first dot only, as the preload groups them', () => {
    expect(bridgePath('vms.start')).toEqual(['vms', 'start']);
    expect(bridgePath('vms.usb.attach')).toEqual(['vms', 'usb.attach']);
    expect(bridgePath('a.b.c.d')).toEqual(['a', 'b.c.d']);
  });

  it('reach the right verb of the Electron bridge', async () => {
    const calls: string[] = [];
    const verb = (name: string) => async (a: unknown) => (calls.push(name), { name, a });
    // The shape the preload gives a three-part method: vireo.vms['usb.attach'].
    const bridge = { vms: { usb: verb('WRONG vms.usb'), 'usb.attach': verb('vms.usb.attach') }, on: () => () => undefined } as unknown as VireoBridge;
    const c = bridgeClient(bridge);
    await expect(c.call(THREE_PART, { vm: 'x' } as never)).resolves.toEqual({ name: 'vms.usb.attach', a: { vm: 'x' } });
    expect(calls).toEqual(['vms.usb.attach']);
    await expect(c.call('vms.usb' as MethodName, {} as never)).resolves.toMatchObject({ name: 'WRONG vms.usb' });
    await expect(c.call('vms.constructor' as MethodName, {} as never)).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
  });

  it('every contract method goes from the bridge client through the real preload object to its own channel', async () => {
    const channels: string[] = [];
    const api = buildPreloadApi(async (channel, args) => (channels.push(channel), { ok: true, result: args }), () => () => undefined);
    const c = bridgeClient(api as unknown as VireoBridge);
    for (const m of METHOD_NAMES) await expect(c.call(m, { probe: m } as never)).resolves.toEqual({ probe: m });
    expect(channels).toEqual(METHOD_NAMES.map((m) => channelFor(m)));
  });
});
