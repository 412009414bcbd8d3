import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { fileURLToPath } from 'node:url';
import { cspFor } from './electron/shared/csp.ts';

// The renderer is served two ways: from file:// inside Electron and from `vireo serve` over
// HTTP, so asset URLs must be relative (base './').
const root = fileURLToPath(new URL('./renderer', import.meta.url));

/**
 * The page's CSP meta tag, written from the one definition (electron/shared/csp.ts) into the
 * built index.html, so there is no copy to drift. Build only: in development the shell sends
 * the dev server's looser policy as a header, and a strict meta tag would block React's
 * inline refresh preamble.
 */
export function cspMetaPlugin(): Plugin {
  return {
    name: 'vireo-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: cspFor({ meta: true }) }, injectTo: 'head-prepend' },
    ],
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [react(), tailwindcss(), cspMetaPlugin()],
  build: {
    outDir: fileURLToPath(new URL('./.vite/renderer/main_window', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: { host: '127.0.0.1', strictPort: false },
});
