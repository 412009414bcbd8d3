import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, expect, _electron as electron, type ElectronApplication } from '@playwright/test';
import { electronBinary, NO_ELECTRON_REASON } from './electron-binary.ts';

const repo = resolve(import.meta.dirname, '..', '..');
const bin = electronBinary(repo);
if (!bin) console.log(NO_ELECTRON_REASON);

test.describe('Electron shell', () => {
  test.skip(!bin, NO_ELECTRON_REASON);

  let app: ElectronApplication | undefined;
  let home = '';

  test.beforeAll(() => {
    if (!existsSync(join(repo, '.vite/build/main.js'))) throw new Error('run `npm run build` first: .vite/build/main.js is missing');
  });

  test.beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'vireo-e2e-'));
    app = await electron.launch({
      executablePath: bin!,
      args: [repo],
      env: { ...process.env, VIREO_HOME: home, ELECTRON_ENABLE_LOGGING: '1' },
    });
  });

  test.afterEach(async () => {
    await app?.close().catch(() => {});
    app = undefined;
    rmSync(home, { recursive: true, force: true });
  });

  test('the page gets window.vireo and nothing from Node', async () => {
    const page = await app!.firstWindow();
    await expect(page).toHaveTitle(/Vireo/);
    const shape = await page.evaluate(() => {
      const w = window as unknown as { vireo: Record<string, unknown>; require?: unknown; process?: unknown };
      return { keys: Object.keys(w.vireo).sort(), require: typeof w.require, process: typeof w.process, url: location.href };
    });
    expect(shape.keys).toEqual(expect.arrayContaining(['host', 'vms', 'snapshots', 'on']));
    expect(shape.require).toBe('undefined');
    expect(shape.process).toBe('undefined');
    expect(shape.url).toBe('app://vireo/index.html');
  });

  test('an API call crosses IPC and a bad one comes back as {code, message}', async () => {
    const page = await app!.firstWindow();
    const info = await page.evaluate(() => (window as unknown as { vireo: { host: { info(a: object): Promise<{ home: string }> } } }).vireo.host.info({}));
    expect(info.home).toBe(home);
    const err = await page.evaluate(() =>
      (window as unknown as { vireo: { vms: { get(a: object): Promise<unknown> } } }).vireo.vms.get({ vm: '' }).catch((e: unknown) => e),
    );
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('navigation away and new windows are refused', async () => {
    const page = await app!.firstWindow();
    await page.evaluate(() => {
      window.open('https://example.com/');
      location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe('app://vireo/index.html');
    expect(app!.windows()).toHaveLength(1);
  });
});

// The app started as a command (electron/main/cli-mode.ts): its main process runs the bundled
// CLI, prints, and exits with the CLI's code; no window opens.
test.describe('Electron shell as the vireo command', () => {
  test.skip(!bin, NO_ELECTRON_REASON);
  test('`<electron> <repo> list --json` prints the library and exits 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const home = mkdtempSync(join(tmpdir(), 'vireo-e2e-cli-'));
    try {
      const r = spawnSync(bin!, [repo, '--home', home, 'list', '--json'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ELECTRON_ENABLE_LOGGING: '0' } });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
