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

/**
 * Everything the entry imports statically, in one chunk. Left to itself the bundler splits every
 * module the entry shares with a lazy view (the wizard, settings, the screen…) into a chunk of
 * its own, and the page fetched thirteen files before its first paint. The lazy views still get
 * their own chunks, which import from this one.
 */
function startChunk(): { plugin: Plugin; group: { name: (id: string) => string | null } } {
  const start = new Set<string>();
  const plugin: Plugin = {
    name: 'vireo-start-chunk',
    apply: 'build',
    buildEnd() {
      start.clear();
      const entries = [...this.getModuleIds()].filter((id) => this.getModuleInfo(id)?.isEntry);
      const todo = [...entries];
      while (todo.length) {
        const id = todo.pop()!;
        if (start.has(id)) continue;
        start.add(id);
        for (const dep of this.getModuleInfo(id)?.importedIds ?? []) todo.push(dep);
      }
    },
  };
  return { plugin, group: { name: (id: string) => (start.has(id) ? 'start' : null) } };
}
const start = startChunk();

/**
 * The built page runs on Preact's React-compatible layer instead of React DOM (issue 21's time to
 * interactive: React DOM was about 200 of the 385 KB the page parsed and ran before its first
 * paint, and a bare React page took twice a bare Preact one to show its first text here). The
 * source stays React (its types, `npm start`'s dev server with fast refresh); only the build maps
 * the imports. What differs and is handled in the source: `ref` reaches a function component
 * through forwardRef only, and `autoFocus` is a focus-on-mount ref (lib/focus.ts).
 */
const PREACT_ALIASES = [
  { find: /^react-dom\/client$/, replacement: 'preact/compat/client' },
  { find: /^react-dom$/, replacement: 'preact/compat' },
  { find: /^react\/jsx-runtime$/, replacement: 'preact/jsx-runtime' },
  { find: /^react\/jsx-dev-runtime$/, replacement: 'preact/jsx-dev-runtime' },
  { find: /^react$/, replacement: 'preact/compat' },
];

export default defineConfig(({ command }) => ({
  root,
  base: './',
  plugins: [react(), tailwindcss(), cspMetaPlugin(), start.plugin],
  resolve: { alias: command === 'build' ? PREACT_ALIASES : [] },
  build: {
    outDir: fileURLToPath(new URL('./.vite/renderer/main_window', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rolldownOptions: { output: { codeSplitting: { groups: [start.group] } } },
  },
  server: { host: '127.0.0.1', strictPort: false },
}));
