import { describe, expect, it } from 'vitest';
import { isAllowedOrigin, TokenStore } from '../../../electron/engine/display/auth.ts';

describe('isAllowedOrigin', () => {
  it('allows non-browser clients, Electron file pages and loopback pages', () => {
    for (const o of [undefined, '', 'null', 'file://', 'http://127.0.0.1:5173', 'http://localhost', 'https://localhost:8443', 'http://[::1]:9000']) {
      expect(isAllowedOrigin(o), String(o)).toBe(true);
    }
  });
  it('refuses other sites, look-alikes and odd schemes', () => {
    for (const o of ['http://evil.example', 'http://127.0.0.1.evil.example', 'http://localhost.evil.example:80', 'ws://127.0.0.1', 'chrome-extension://abc', 'not a url', 'http://192.168.1.5:8080']) {
      expect(isAllowedOrigin(o), o).toBe(false);
    }
  });
  it('allows origins the caller lists', () => {
    expect(isAllowedOrigin('http://192.168.1.5:8080', ['http://192.168.1.5:8080'])).toBe(true);
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
