// Bundles the CLI (electron/cli/main.ts and everything it imports, npm packages included) into
// one plain-JavaScript file, .vite/build/cli.mjs, so `vireo` runs on Node without tsx and the
// packaged app (which ships .vite/build but no node_modules) can run it in its main process.
// Node built-ins stay imports; CommonJS packages inside the bundle get a real `require`.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'electron/cli/main.ts')],
  // an output path may be given (the packaging test builds into its own project copy)
  outfile: process.argv[2] ?? join(root, '.vite/build/cli.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Electron is never part of the CLI (test/unit/architecture keeps it out); if it ever were,
  // the bundle should fail loudly rather than carry it.
  external: ['electron'],
  banner: { js: "import { createRequire as __vireoRequire } from 'node:module'; const require = __vireoRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
