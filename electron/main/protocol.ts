import { protocol, session, type Session } from 'electron';
import { readFile } from 'node:fs/promises';
import { resolveAppFile, mimeFor } from './app-files.ts';
import { APP_ORIGIN, APP_SCHEME, cspFor, isAppUrl, permissionDecision } from './security.ts';
import { wasmFetch } from '../server/wasm-fetch.ts';
import type { WasmDrives } from '../engine/wasm/drives.ts';

// Serving the renderer from app://vireo/ and the session-wide policy (CSP, permissions).

/** Must run before app 'ready': the scheme behaves like https (secure context, fetch, CORS). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
}

/** `wasm`: the engine's drives once it is open; app://vireo/wasm/ is then the wasm/v86 backend's routes (server/wasm-fetch.ts). */
export function serveRenderer(rendererDir: string, ses: Session = session.defaultSession, wasm: () => WasmDrives | undefined = () => undefined): void {
  const csp = cspFor();
  ses.protocol.handle(APP_SCHEME, async (request) => {
    if (new URL(request.url).pathname.startsWith('/wasm/')) return wasmFetch(wasm(), request, APP_ORIGIN);
    const file = resolveAppFile(rendererDir, request.url);
    if (!file || request.method !== 'GET') return new Response('not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(body, {
        status: 200,
        headers: { 'content-type': mimeFor(file), 'content-security-policy': csp, 'x-content-type-options': 'nosniff' },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}

export function applySessionPolicy(appUrl: string, devServerUrl: string | undefined, ses: Session = session.defaultSession): void {
  ses.setPermissionRequestHandler((wc, permission, callback, details) => {
    callback(permissionDecision(permission, { requestingUrl: details.requestingUrl, isMainFrame: details.isMainFrame }) && isAppUrl(wc.getURL(), appUrl));
  });
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin, details) =>
    permissionDecision(permission, { requestingUrl: details.requestingUrl ?? requestingOrigin, isMainFrame: details.isMainFrame }),
  );
  ses.setDevicePermissionHandler(() => false);
  ses.setDisplayMediaRequestHandler((_req, callback) => callback({}));
  if (devServerUrl) {
    // The dev server's responses carry no CSP of ours; add it.
    const csp = cspFor(devServerUrl);
    const origin = new URL(devServerUrl).origin;
    ses.webRequest.onHeadersReceived({ urls: [`${origin}/*`] }, (details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
    });
  }
}
