import { test as base } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// A real `vireo serve` per test file: its own library in a temp dir, a random token, any free
// port. The UI under test is the built renderer it serves (run `npm run build` first).

export interface Served {
  url: string;
  origin: string;
  token: string;
  home: string;
  /** run the CLI against the same library (to set up VMs the UI then shows) */
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'electron/cli/main.ts');

/** `vireo serve` on library `home` with `args`, once it prints the URL it serves at. */
export async function spawnServe(home: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child: ChildProcess = spawn(TSX, [MAIN, '--home', home, 'serve', ...args], {
    cwd: ROOT,
    shell: false,
    env: { ...process.env, VIREO_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`vireo serve printed no URL within 30 s; stderr:\n${stderr}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Vireo is serving at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`vireo serve exited (${code}) before serving; stderr:\n${stderr}`));
    });
  });
  return { child, url };
}

/** The CLI (`vireo --home H …`) on library `home`. */
export function runCli(home: string, args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const p = spawn(TSX, [MAIN, '--home', home, ...args], { cwd: ROOT, shell: false, env: { ...process.env, VIREO_HOME: home } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

export async function startServe(): Promise<Served & { stop(): Promise<void> }> {
  if (!existsSync(join(ROOT, '.vite/renderer/main_window/index.html'))) {
    throw new Error('the renderer is not built: run `npx vite build --config vite.renderer.config.ts` first');
  }
  const home = await mkdtemp(join(tmpdir(), 'vireo-e2e-'));
  const token = randomBytes(16).toString('hex');
  // Browser clients are confined to the library and the media folders (issue 13): the test
  // guest's ISO and disks live in the fixture cache, outside both unless it is named here.
  const media = process.env.VIREO_FIXTURES_CACHE ?? join(ROOT, 'test/fixtures/.cache');
  const { child, url } = await spawnServe(home, ['--port', '0', '--token', token, '--media', media]);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await rm(home, { recursive: true, force: true });
  };
  return { url, origin: new URL(url).origin, token, home, cli: (a) => runCli(home, a), stop };
}

/** `served` is one server per worker: starting the engine is the slow part. */
export const test = base.extend<object, { served: Served }>({
  served: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern here
    async ({}, use) => {
      const s = await startServe();
      try {
        await use(s);
      } finally {
        await s.stop();
      }
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
