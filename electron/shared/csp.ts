// The one Content-Security-Policy of the renderer, for every way it is served: the Electron
// shell's app:// protocol (electron/main/protocol.ts), `vireo serve` (electron/server/server.ts)
// and the page's own meta tag (injected at build time by vite.renderer.config.ts).
// Dependency-free (no imports at all), so each of those can use it as it is.
//
// Desktop and web get the same policy. connect-src: 'self' covers the API WebSocket of
// `vireo serve` (CSP 3 lets 'self' match ws: on the page's own host and port); the loopback
// entries cover the engine's display bridge. Only the development server (Forge `start`) is
// looser: it serves from its own origin, pushes updates over its own socket, and React's
// refresh preamble is an inline script.

export interface CspOptions {
  /** URL of the Vite dev server in development; absent in every packaged or served build */
  devServerUrl?: string | undefined;
  /**
   * For a <meta http-equiv> tag: browsers ignore frame-ancestors there (and warn), so it is
   * left out; the response header carries it.
   */
  meta?: boolean;
}

export function cspFor(opts: CspOptions = {}): string {
  const dev = opts.devServerUrl ? new URL(opts.devServerUrl) : null;
  const devOrigin = dev ? dev.origin : '';
  const devWs = dev ? `ws://${dev.host}` : '';
  const d: Record<string, string[]> = {
    'default-src': ["'self'"],
    // 'wasm-unsafe-eval' lets the page compile WebAssembly (v86, the wasm/v86 backend), and
    // nothing else: JavaScript eval stays refused.
    'script-src': dev ? ["'self'", "'wasm-unsafe-eval'", "'unsafe-inline'", devOrigin] : ["'self'", "'wasm-unsafe-eval'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*', ...(dev ? [devOrigin, devWs] : [])],
    'worker-src': ["'self'", 'blob:'],
    'object-src': ["'none'"],
    'frame-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    ...(opts.meta ? {} : { 'frame-ancestors': ["'none'"] }),
  };
  return Object.entries(d).map(([k, v]) => `${k} ${v.join(' ')}`).join('; ');
}

/** The policy of every non-development response. */
export const CSP = cspFor();
