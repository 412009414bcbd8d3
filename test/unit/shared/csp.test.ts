import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexHtmlTransformHook } from 'vite';
import { CSP, cspFor } from '../../../electron/shared/csp.ts';
import * as shell from '../../../electron/main/security.ts';
import { cspMetaPlugin } from '../../../vite.renderer.config.ts';

// One CSP: the shell and the meta tag take it from electron/shared/csp.ts (the server's header
// is checked end to end in test/e2e/csp.spec.ts, against the page `vireo serve` sends).

const root = join(import.meta.dirname, '..', '..', '..');
const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));

describe('the one CSP', () => {
  it('is what the Electron shell sends, in production and for the dev server', () => {
    expect(shell.CSP).toBe(CSP);
    expect(shell.cspFor('http://localhost:5173/')).toBe(cspFor({ devServerUrl: 'http://localhost:5173/' }));
  });

  it('leaves out only frame-ancestors for a meta tag (browsers ignore it there)', () => {
    const header = directives(CSP);
    const meta = directives(cspFor({ meta: true }));
    expect(header.get('frame-ancestors')).toEqual(["'none'"]);
    header.delete('frame-ancestors');
    expect(meta).toEqual(header);
  });

  it('is written into the built page by the vite plugin, and the source page holds no copy', () => {
    const hook = cspMetaPlugin().transformIndexHtml as IndexHtmlTransformHook;
    const tags = hook.call({} as never, '', {} as never);
    expect(tags).toEqual([
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: cspFor({ meta: true }) }, injectTo: 'head-prepend' },
    ]);
    expect(cspMetaPlugin().apply).toBe('build');
    const source = readFileSync(join(root, 'renderer/index.html'), 'utf8');
    expect(source).not.toMatch(/http-equiv="Content-Security-Policy"/i);
  });

  it('names no server: the renderer is served from its own origin and the loopback bridge', () => {
    const d = directives(CSP);
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*']);
    expect(CSP).not.toMatch(/(^|\s)ws:(\s|;|$)/); // no blanket ws: to any host
  });
});
