import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, _electron as electron, type ElectronApplication } from '@playwright/test';
import { electronBinary, NO_ELECTRON_REASON } from './electron-binary.ts';
import { createEngine } from '../../electron/engine/index.ts';
import { ensureI386 } from '../fixtures/guest-i386.ts';
import { startV86InPage } from '../e2e/v86-page.ts';

// Issue 20: the desktop window runs a wasm/v86 VM. Its page is app://vireo/, whose protocol
// handler (main/protocol.ts) hands /wasm/ to the same routes a serve page uses
// (server/wasm-fetch.ts, tested without Electron in test/integration/v86-app-protocol.test.ts):
// the 32-bit test guest boots in the window to its serial marker.

const repo = resolve(import.meta.dirname, '..', '..');
const bin = electronBinary(repo);
if (!bin) console.log(NO_ELECTRON_REASON);

test.describe('wasm/v86 in the desktop window', () => {
  test.skip(!bin, NO_ELECTRON_REASON);
  test.describe.configure({ timeout: 300_000 });

  let app: ElectronApplication | undefined;
  let home = '';

  test.beforeAll(async () => {
    if (!existsSync(join(repo, '.vite/build/main.js'))) throw new Error('run `npm run build` first: .vite/build/main.js is missing');
    home = mkdtempSync(join(tmpdir(), 'vireo-v86-window-'));
    const fx = await ensureI386();
    // The VM made before the app opens the library (one owner at a time).
    const engine = await createEngine({ home });
    try {
      await engine.client.call('vms.create', { name: 'v86 window', backend: 'wasm/v86', iso: fx.iso, memory: '128M', disk: '8M' });
    } finally {
      await engine.dispose();
    }
  });

  test.afterAll(async () => {
    await app?.close().catch(() => {});
    rmSync(home, { recursive: true, force: true });
  });

  test('boots the 32-bit guest in the window to its serial marker', async () => {
    app = await electron.launch({ executablePath: bin!, args: [repo], env: { ...process.env, VIREO_HOME: home, ELECTRON_ENABLE_LOGGING: '1' } });
    const page = await app.firstWindow();
    await startV86InPage(page, 'v86 window');
  });
});
