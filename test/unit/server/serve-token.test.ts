import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libraryServeToken, serveTokenFile } from '../../../electron/server/token.ts';

// vireo serve's token per library (issue 23): created once with mode 0600, kept, rotated on request.

const made: string[] = [];
const lib = () => {
  const d = mkdtempSync(join(tmpdir(), 'vireo-h4-token-'));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('libraryServeToken', () => {
  it('creates a token on first use in <home>/serve-token with mode 0600, then returns the same one', async () => {
    const home = lib();
    const a = await libraryServeToken(home);
    expect(a.created).toBe(true);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(serveTokenFile(home)).mode & 0o777).toBe(0o600);
    expect(readFileSync(serveTokenFile(home), 'utf8').trim()).toBe(a.token);
    const b = await libraryServeToken(home);
    expect(b).toEqual({ token: a.token, created: false });
  });

  it('rotate replaces it; a file made readable by others is made private again', async () => {
    const home = lib();
    const a = await libraryServeToken(home);
    const r = await libraryServeToken(home, { rotate: true });
    expect(r.token).not.toBe(a.token);
    expect((await libraryServeToken(home)).token).toBe(r.token);
    chmodSync(serveTokenFile(home), 0o644);
    expect((await libraryServeToken(home)).token).toBe(r.token);
    expect(statSync(serveTokenFile(home)).mode & 0o777).toBe(0o600);
  });

  it('a file that holds no usable token (empty, too short, spaces) is replaced by a new one', async () => {
    for (const bad of ['', 'short', 'has spaces in it but is long enough']) {
      const home = lib();
      writeFileSync(serveTokenFile(home), bad, { mode: 0o600 });
      const t = await libraryServeToken(home);
      expect(t.created).toBe(true);
      expect(t.token).not.toBe(bad);
    }
  });
});
