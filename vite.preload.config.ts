import { defineConfig } from 'vite';
import { nodeExternals } from './vite.main.config.ts';

// Preload bundle: .vite/build/preload.js, one CommonJS script. A sandboxed preload is not
// loaded by Node's module loader (so "type": "module" does not apply to it) and may require
// only 'electron' and a few builtins: everything else (the contract's names) is bundled in.

export default defineConfig({
  build: {
    outDir: '.vite/build',
    emptyOutDir: false,
    target: 'chrome130',
    ssr: false,
    sourcemap: false,
    minify: false,
    copyPublicDir: false,
    rollupOptions: {
      input: 'electron/preload/index.ts',
      external: nodeExternals,
      output: { format: 'cjs', entryFileNames: 'preload.js', codeSplitting: false },
    },
  },
  clearScreen: false,
});
