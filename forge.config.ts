import type { ForgeConfig } from '@electron-forge/shared-types';
import { VitePlugin } from '@electron-forge/plugin-vite';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { fuseConfig } from './electron/main/fuses.ts';

// `npm start` (electron-forge start) runs the app from Vite's dev server; `npm run make` uses
// electron-builder (package.json "build"), so Forge only needs packagerConfig for `package`.

const config: ForgeConfig = {
  packagerConfig: {
    name: 'Vireo',
    executableName: 'vireo',
    appBundleId: 'org.vireo.app',
    appCategoryType: 'public.app-category.developer-tools',
    icon: 'build/icons/icon',
    asar: true,
    extraResource: ['resources', 'build/icons'],
  },
  rebuildConfig: {},
  makers: [],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'electron/main/app.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'electron/preload/index.ts', config: 'vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'vite.renderer.config.ts' }],
    }),
    new FusesPlugin(fuseConfig()),
  ],
};

export default config;
