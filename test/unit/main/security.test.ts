import { describe, expect, it } from 'vitest';
import {
  APP_URL, CSP, cspFor, droppedFile, externalUrlAllowed, isTrustedSender, navigationAllowed, permissionDecision,
  webPreferencesFor,
} from '../../../electron/main/security.ts';
import { resolveAppFile, mimeFor } from '../../../electron/main/app-files.ts';

const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));

describe('webPreferencesFor', () => {
  it('isolates and sandboxes the renderer and keeps Node out of it', () => {
    const p = webPreferencesFor('/app/.vite/build/preload.js');
    expect(p).toMatchObject({
      preload: '/app/.vite/build/preload.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
    expect(Object.keys(p)).not.toContain('enableRemoteModule');
  });
});

describe('CSP', () => {
  it('allows only our own scripts and the loopback display WebSocket', () => {
    const d = directives(CSP);
    expect(d.get('default-src')).toEqual(["'self'"]);
    // WebAssembly compilation only (v86, the wasm/v86 backend); JavaScript eval stays refused.
    expect(d.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('form-action')).toEqual(["'none'"]);
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*']);
    expect(d.get('script-src')).not.toContain("'unsafe-eval'");
    expect(d.get('script-src')).not.toContain("'unsafe-inline'");
  });

  it('loosens only for the dev server, naming its origin', () => {
    const d = directives(cspFor('http://localhost:5173/'));
    expect(d.get('script-src')).toContain('http://localhost:5173');
    expect(d.get('connect-src')).toContain('ws://localhost:5173');
    expect(d.get('script-src')).not.toContain("'unsafe-eval'");
  });
});

describe('permissionDecision', () => {
  it.each(['media', 'geolocation', 'notifications', 'midi', 'midiSysex', 'pointerLock', 'fullscreen', 'openExternal', 'hid', 'serial', 'usb', 'clipboard-read', 'display-capture', 'idle-detection', 'storage-access', 'unknown'])(
    'denies %s',
    (perm) => {
      expect(permissionDecision(perm, { requestingUrl: APP_URL, isMainFrame: true })).toBe(false);
    },
  );

  it('allows a sanitized clipboard write from our page only', () => {
    expect(permissionDecision('clipboard-sanitized-write', { requestingUrl: APP_URL, isMainFrame: true })).toBe(true);
    expect(permissionDecision('clipboard-sanitized-write', { requestingUrl: 'https://evil.example/', isMainFrame: true })).toBe(false);
    expect(permissionDecision('clipboard-sanitized-write', { requestingUrl: APP_URL, isMainFrame: false })).toBe(false);
    expect(permissionDecision('clipboard-sanitized-write', {})).toBe(false);
  });
});

describe('navigationAllowed', () => {
  it('allows reloading our page and nothing else', () => {
    expect(navigationAllowed('app://vireo/index.html')).toBe(true);
    expect(navigationAllowed('app://vireo/index.html#/vm/1')).toBe(true);
    expect(navigationAllowed('app://vireo/other.html')).toBe(false);
    expect(navigationAllowed('app://evil/index.html')).toBe(false);
    expect(navigationAllowed('https://example.com/')).toBe(false);
    expect(navigationAllowed('file:///etc/passwd')).toBe(false);
    expect(navigationAllowed('javascript:alert(1)')).toBe(false);
    expect(navigationAllowed('not a url')).toBe(false);
  });

  it('in development, allows the dev server origin only', () => {
    const dev = 'http://localhost:5173/';
    expect(navigationAllowed('http://localhost:5173/', dev)).toBe(true);
    expect(navigationAllowed('http://localhost:5174/', dev)).toBe(false);
    expect(navigationAllowed('http://127.0.0.1:5173/', dev)).toBe(false);
  });
});

describe('externalUrlAllowed', () => {
  it('hands only https links to the OS browser', () => {
    expect(externalUrlAllowed('https://www.qemu.org/docs/')).toBe(true);
    expect(externalUrlAllowed('http://www.qemu.org/')).toBe(false);
    expect(externalUrlAllowed('file:///etc/passwd')).toBe(false);
    expect(externalUrlAllowed('smb://host/share')).toBe(false);
    expect(externalUrlAllowed('javascript:alert(1)')).toBe(false);
    expect(externalUrlAllowed('https://user:pw@example.com/')).toBe(false);
    expect(externalUrlAllowed('')).toBe(false);
  });
});

describe('isTrustedSender', () => {
  const ours = new Set([1, 2]);
  it('accepts the main frame of our window showing our page', () => {
    expect(isTrustedSender({ frameUrl: 'app://vireo/index.html', isMainFrame: true, windowId: 1 }, ours)).toBe(true);
    expect(isTrustedSender({ frameUrl: 'app://vireo/index.html#x', isMainFrame: true, windowId: 2 }, [1, 2])).toBe(true);
  });
  it('refuses subframes, foreign windows, foreign pages and vanished frames', () => {
    expect(isTrustedSender({ frameUrl: 'app://vireo/index.html', isMainFrame: false, windowId: 1 }, ours)).toBe(false);
    expect(isTrustedSender({ frameUrl: 'app://vireo/index.html', isMainFrame: true, windowId: 3 }, ours)).toBe(false);
    expect(isTrustedSender({ frameUrl: 'app://vireo/index.html', isMainFrame: true, windowId: null }, ours)).toBe(false);
    expect(isTrustedSender({ frameUrl: 'https://evil.example/', isMainFrame: true, windowId: 1 }, ours)).toBe(false);
    expect(isTrustedSender({ frameUrl: 'file:///tmp/x.html', isMainFrame: true, windowId: 1 }, ours)).toBe(false);
    expect(isTrustedSender({ frameUrl: null, isMainFrame: true, windowId: 1 }, ours)).toBe(false);
  });
  it('in development trusts the dev server origin instead of app://', () => {
    const dev = 'http://localhost:5173/';
    expect(isTrustedSender({ frameUrl: 'http://localhost:5173/', isMainFrame: true, windowId: 1 }, ours, dev)).toBe(true);
    expect(isTrustedSender({ frameUrl: 'app://vireo/index.html', isMainFrame: true, windowId: 1 }, ours, dev)).toBe(false);
  });
});

describe('droppedFile', () => {
  it('turns a dropped ISO or disk image into a path', () => {
    expect(droppedFile('file:///home/a/Debian%2012.iso', 'linux')).toEqual({ path: '/home/a/Debian 12.iso', kind: 'iso' });
    expect(droppedFile('file:///vm/disk.QCOW2', 'linux')).toEqual({ path: '/vm/disk.QCOW2', kind: 'disk' });
    expect(droppedFile('file:///C:/Users/a/win.iso', 'win32')).toEqual({ path: 'C:\\Users\\a\\win.iso', kind: 'iso' });
  });
  it('ignores other files and remote URLs', () => {
    expect(droppedFile('file:///home/a/notes.txt', 'linux')).toBeNull();
    expect(droppedFile('https://example.com/a.iso', 'linux')).toBeNull();
    expect(droppedFile('file://server/share/a.iso', 'linux')).toBeNull();
  });
});

describe('resolveAppFile', () => {
  const root = '/opt/vireo/renderer';
  it('maps app:// URLs into the renderer folder', () => {
    expect(resolveAppFile(root, 'app://vireo/index.html')).toBe('/opt/vireo/renderer/index.html');
    expect(resolveAppFile(root, 'app://vireo/')).toBe('/opt/vireo/renderer/index.html');
    expect(resolveAppFile(root, 'app://vireo/assets/app-1.js?x=1')).toBe('/opt/vireo/renderer/assets/app-1.js');
  });
  it('refuses traversal, other hosts and other schemes', () => {
    // The URL parser folds dot segments, so these stay inside the root.
    expect(resolveAppFile(root, 'app://vireo/../../etc/passwd')).toBe('/opt/vireo/renderer/etc/passwd');
    expect(resolveAppFile(root, 'app://vireo/%2e%2e/%2e%2e/etc/passwd')).toBe('/opt/vireo/renderer/etc/passwd');
    expect(resolveAppFile(root, 'app://vireo/..%2f..%2fetc/passwd')).toBeNull();
    expect(resolveAppFile(root, 'app://vireo/a%5c..%5c..%5cb')).toBeNull();
    expect(resolveAppFile(root, 'app://vireo/x%00.html')).toBeNull();
    expect(resolveAppFile(root, 'app://other/index.html')).toBeNull();
    expect(resolveAppFile(root, 'file:///opt/vireo/renderer/index.html')).toBeNull();
  });
  it('names content types', () => {
    expect(mimeFor('a/index.html')).toMatch(/^text\/html/);
    expect(mimeFor('a/x.js')).toMatch(/^text\/javascript/);
    expect(mimeFor('a/x.bin')).toBe('application/octet-stream');
  });
});
