import { describe, expect, it } from 'vitest';
import { isAllowedOrigin, isLoopbackHost, TokenStore } from '../../../electron/engine/display/auth.ts';

describe('isAllowedOrigin', () => {
  it('allows non-browser clients, Electron file pages and loopback pages', () => {
    for (const o of [undefined, '', 'file://', 'http://127.0.0.1:5173', 'http://localhost', 'https://localhost:8443', 'http://[::1]:9000']) {
      expect(isAllowedOrigin(o), String(o)).toBe(true);
    }
  });
  it('refuses other sites, look-alikes and odd schemes', () => {
    for (const o of ['http://evil.example', 'http://127.0.0.1.evil.example', 'http://localhost.evil.example:80', 'ws://127.0.0.1', 'chrome-extension://abc', 'not a url', 'http://192.168.1.5:8080']) {
      expect(isAllowedOrigin(o), o).toBe(false);
    }
  });
  it('refuses the opaque origin "null" (sandboxed iframes, data: pages): any site can send it', () => {
    expect(isAllowedOrigin('null')).toBe(false);
    expect(isAllowedOrigin('null', ['app://vireo'])).toBe(false);
  });
  it('allows origins the caller lists', () => {
    expect(isAllowedOrigin('app://vireo', ['app://vireo'])).toBe(true);
    expect(isAllowedOrigin('app://vireo')).toBe(false);
    expect(isAllowedOrigin('http://192.168.1.5:8080', ['http://192.168.1.5:8080'])).toBe(true);
  });
});

describe('isLoopbackHost', () => {
  it('accepts the loopback names with the right port only', () => {
    for (const h of ['127.0.0.1:4000', 'localhost:4000', 'LOCALHOST:4000', '[::1]:4000']) expect(isLoopbackHost(h, 4000), h).toBe(true);
    for (const h of [undefined, '', '127.0.0.1', '127.0.0.1:4001', 'evil.example:4000', '127.0.0.1.evil.example:4000', '10.0.0.1:4000']) {
      expect(isLoopbackHost(h, 4000), String(h)).toBe(false);
    }
  });
});

describe('TokenStore', () => {
  it('issues 32 random bytes as hex, valid only for its kind and VM until it expires', () => {
    const s = new TokenStore();
    const { token, expiresAt } = s.issue('vnc', 'vm1', 1000, 5000);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(expiresAt).toBe(6000);
    expect(s.check('vnc', 'vm1', token, 5999)).toBe(true);
    expect(s.check('vnc', 'vm1', token.toUpperCase(), 5999)).toBe(true);
    expect(s.check('vnc', 'vm1', token, 6000)).toBe(false);
    expect(s.check('serial', 'vm1', token, 5500)).toBe(false);
    expect(s.check('vnc', 'vm2', token, 5500)).toBe(false);
    expect(s.issue('vnc', 'vm1', 1000, 5000).token).not.toBe(token);
  });
  it('refuses missing, malformed and wrong tokens', () => {
    const s = new TokenStore();
    const { token } = s.issue('serial', 'a', 60_000);
    expect(s.check('serial', 'a', null)).toBe(false);
    expect(s.check('serial', 'a', '')).toBe(false);
    expect(s.check('serial', 'a', token.slice(0, 63))).toBe(false);
    expect(s.check('serial', 'a', `${token.slice(0, 63)}${token[63] === '0' ? '1' : '0'}`)).toBe(false);
    expect(s.check('serial', 'a', token)).toBe(true);
  });
  it('spends a token on its first use: consume succeeds once, for its kind and VM only', () => {
    const s = new TokenStore();
    const { token } = s.issue('vnc', 'a', 60_000);
    expect(s.consume('serial', 'a', token)).toBe(false);
    expect(s.consume('vnc', 'b', token)).toBe(false);
    expect(s.consume('vnc', 'a', token)).toBe(true);
    expect(s.consume('vnc', 'a', token)).toBe(false);
    expect(s.check('vnc', 'a', token)).toBe(false);
    const other = s.issue('vnc', 'a', 60_000).token;
    expect(s.consume('vnc', 'a', null)).toBe(false);
    expect(s.check('vnc', 'a', other)).toBe(true);
    const expired = s.issue('vnc', 'a', 10, 0).token;
    expect(s.consume('vnc', 'a', expired, 100)).toBe(false);
  });
  it('revokes per VM or all, and purges expired grants', () => {
    const s = new TokenStore();
    const a = s.issue('vnc', 'a', 60_000).token;
    const b = s.issue('vnc', 'b', 60_000).token;
    s.revoke('a');
    expect(s.check('vnc', 'a', a)).toBe(false);
    expect(s.check('vnc', 'b', b)).toBe(true);
    s.revoke();
    expect(s.check('vnc', 'b', b)).toBe(false);
    s.issue('vnc', 'c', 10, 0);
    s.purge(100);
    expect(s.size).toBe(0);
  });
});
