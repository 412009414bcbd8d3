import { describe, expect, it } from 'vitest';
import { hostname, networkInterfaces } from 'node:os';
import type { IncomingMessage } from 'node:http';
import { allowedHostHeaders, cookieValue, hostAllowed, isLoopbackName, safeUrl, sameOrigin, wsBase } from '../../../electron/server/guard.ts';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('safeUrl', () => {
  it('parses origin-form targets', () => {
    expect(safeUrl('/api?token=a%20b')?.searchParams.get('token')).toBe('a b');
    expect(safeUrl(undefined)?.pathname).toBe('/');
  });
  it('gives null for targets that throw or are not a path (absolute-form, authority, *)', () => {
    for (const t of ['http://[', 'http://evil.example/api', 'evil.example:80', '*', '']) {
      expect(safeUrl(t), t).toBeNull();
    }
  });
  it('keeps a target starting with "//" a path on this server, never another host', () => {
    const u = safeUrl('//evil.example/api');
    expect(u?.host).toBe('localhost');
    expect(u?.pathname).toBe('//evil.example/api');
  });
});

describe('cookieValue', () => {
  it('finds one cookie among several and decodes it', () => {
    expect(cookieValue('a=1; vireo_token=x%2By; b=2', 'vireo_token')).toBe('x+y');
    expect(cookieValue('vireo_token=a=b', 'vireo_token')).toBe('a=b');
  });
  it('gives null for absent cookies and for values that are not percent-encoding', () => {
    expect(cookieValue(undefined, 'vireo_token')).toBeNull();
    expect(cookieValue('other=1', 'vireo_token')).toBeNull();
    expect(cookieValue('vireo_token=%E0%A4%A', 'vireo_token')).toBeNull();
    expect(cookieValue('x_vireo_token=1', 'vireo_token')).toBeNull();
  });
});

describe('allowedHostHeaders', () => {
  it('bound to loopback: the address and the usual loopback names, with the port', () => {
    const h = allowedHostHeaders('127.0.0.1', 8080);
    expect([...h].sort()).toEqual(['127.0.0.1:8080', '[::1]:8080', 'localhost:8080']);
    expect(allowedHostHeaders('127.0.0.2', 9).has('127.0.0.2:9')).toBe(true);
    expect(allowedHostHeaders('::1', 9).has('[::1]:9')).toBe(true);
  });
  it('bound to one address: only that address (no loopback names)', () => {
    expect([...allowedHostHeaders('192.168.1.5', 8080)]).toEqual(['192.168.1.5:8080']);
  });
  it('port 80 may be left out, as browsers do', () => {
    const h = allowedHostHeaders('10.0.0.1', 80);
    expect(h.has('10.0.0.1')).toBe(true);
    expect(h.has('10.0.0.1:80')).toBe(true);
    expect(allowedHostHeaders('10.0.0.1', 8080).has('10.0.0.1')).toBe(false);
  });
  it('bound to all interfaces: every interface address and the machine name', () => {
    const h = allowedHostHeaders('0.0.0.0', 7000);
    expect(h.has(`${hostname().toLowerCase()}:7000`)).toBe(true);
    for (const a of Object.values(networkInterfaces()).flat()) {
      if (a && a.family === 'IPv4') expect(h.has(`${a.address}:7000`), a.address).toBe(true);
    }
    expect(h.has('localhost:7000')).toBe(true);
  });
  it('adds the names the owner allows, with this port unless one is given', () => {
    const h = allowedHostHeaders('0.0.0.0', 7000, ['vms.example.org', 'Proxy.Example:443', '[fe80::1]']);
    expect(h.has('vms.example.org:7000')).toBe(true);
    expect(h.has('proxy.example:443')).toBe(true);
    expect(h.has('[fe80::1]:7000')).toBe(true);
  });
});

describe('hostAllowed, sameOrigin, wsBase', () => {
  it('compares Host case-insensitively and refuses a missing one', () => {
    const h = allowedHostHeaders('127.0.0.1', 8080);
    expect(hostAllowed(h, 'LOCALHOST:8080')).toBe(true);
    expect(hostAllowed(h, undefined)).toBe(false);
    expect(hostAllowed(h, 'evil.example:8080')).toBe(false);
  });
  it('same origin: none (non-browser) or http(s) of the Host; never "null"', () => {
    expect(sameOrigin(req({ host: '127.0.0.1:8080' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:8080', origin: 'https://127.0.0.1:8080' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:8080', origin: 'null' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:8080', origin: 'http://localhost:8080' }))).toBe(false);
    expect(sameOrigin(req({ origin: 'http://127.0.0.1:8080' }))).toBe(false);
  });
  it('the WebSocket base is the Host the browser used, wss behind a TLS page', () => {
    expect(wsBase(req({ host: '127.0.0.2:9000', origin: 'http://127.0.0.2:9000' }))).toBe('ws://127.0.0.2:9000');
    expect(wsBase(req({ host: 'vms.example.org', origin: 'https://vms.example.org' }))).toBe('wss://vms.example.org');
  });
  it('knows the loopback names', () => {
    for (const n of ['localhost', '127.0.0.1', '127.3.4.5', '::1', '[::1]']) expect(isLoopbackName(n), n).toBe(true);
    for (const n of ['0.0.0.0', '10.0.0.1', 'localhost.evil', '128.0.0.1']) expect(isLoopbackName(n), n).toBe(false);
  });
});
