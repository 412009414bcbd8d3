import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

// Main process bundle: .vite/build/main.js, an ES module (package.json has "type": "module")
// for Electron's Node. The engine and its dependencies are bundled in; only electron and Node
// builtins stay external. Works under Forge's Vite plugin and standalone
// (`npx vite build --config vite.main.config.ts`).

export const nodeExternals = ['electron', /^electron\/.+/, ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default defineConfig((env) => {
  const underForge = 'forgeConfig' in env;
  return {
    build: {
      outDir: '.vite/build',
      emptyOutDir: false,
      target: 'node22',
      // Forge adds a CommonJS lib build unless the config names its own; this one is ESM.
      lib: false,
      ssr: 'electron/main/app.ts',
      sourcemap: true,
      minify: false,
      copyPublicDir: false,
      rollupOptions: {
        external: nodeExternals,
        output: { format: 'es', entryFileNames: 'main.js', codeSplitting: false },
      },
    },
    ssr: { noExternal: true, target: 'node' },
    resolve: { conditions: ['node'] },
    // Forge defines the dev-server URL; a standalone build runs the packaged way (app://).
    define: underForge ? {} : { MAIN_WINDOW_VITE_DEV_SERVER_URL: 'undefined', MAIN_WINDOW_VITE_NAME: JSON.stringify('main_window') },
    clearScreen: false,
  };
});
