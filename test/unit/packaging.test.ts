// SLOW (about 30 s): builds the three bundles into a temp project and runs electron-builder
// `--dir` for Linux against a stand-in Electron distribution (the real one cannot be downloaded
// here). The stand-in `electron` carries a real fuse wire, so the fuses electron-builder flips
// are checked too. Nothing is written into the working tree.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build as viteBuild } from 'vite';
import { FuseV1Options, getCurrentFuseWire, FuseState } from '@electron/fuses';
import { fuseConfig } from '../../electron/main/fuses.ts';

const require = createRequire(import.meta.url);
const repo = resolve(import.meta.dirname, '..', '..');
const electronVersion: string = JSON.parse(readFileSync(join(repo, 'node_modules/electron/package.json'), 'utf8')).version;
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/** An unpacked "Electron" laid out like the real linux-x64 zip, minus 200 MB of Chromium. */
function fakeElectronDist(dir: string) {
  mkdirSync(join(dir, 'locales'), { recursive: true });
  mkdirSync(join(dir, 'resources'), { recursive: true });
  // Fuse wire v1, 9 fuses, Electron's shipped defaults (RunAsNode on ... WasmTrapHandlers on).
  const exe = Buffer.concat([Buffer.from('#!/bin/sh\necho "stand-in Electron"\nexit 0\n# '), Buffer.from(SENTINEL), Buffer.from([1, 9]), Buffer.from('101001001\n')]);
  writeFileSync(join(dir, 'electron'), exe, { mode: 0o755 });
  for (const f of ['LICENSE', 'LICENSES.chromium.html', 'chrome-sandbox', 'chrome_crashpad_handler', 'libEGL.so', 'libGLESv2.so', 'libffmpeg.so', 'libvk_swiftshader.so', 'vk_swiftshader_icd.json', 'icudtl.dat', 'resources.pak', 'chrome_100_percent.pak', 'chrome_200_percent.pak', 'snapshot_blob.bin', 'v8_context_snapshot.bin', 'version', 'locales/en-US.pak', 'locales/de.pak']) {
    writeFileSync(join(dir, f), f === 'version' ? electronVersion : 'stand-in');
  }
}

describe('packaging (SLOW: vite builds + electron-builder --dir, ~30 s)', { timeout: 240_000 }, () => {
  let tmp = '';
  let proj = '';
  let out = '';
  let desktopEntry = '';

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'vireo-pack-'));
    proj = join(tmp, 'proj');
    out = join(tmp, 'out');
    mkdirSync(proj);
    cpSync(join(repo, 'package.json'), join(proj, 'package.json'));
    cpSync(join(repo, 'build'), join(proj, 'build'), { recursive: true });
    cpSync(join(repo, 'resources'), join(proj, 'resources'), { recursive: true });
    // electron-builder walks the production dependency tree even when the app bundles them.
    symlinkSync(join(repo, 'node_modules'), join(proj, 'node_modules'), 'dir');

    const quiet = { logLevel: 'error' as const };
    await viteBuild({ ...quiet, configFile: join(repo, 'vite.renderer.config.ts'), build: { outDir: join(proj, '.vite/renderer/main_window'), emptyOutDir: true } });
    await viteBuild({ ...quiet, root: repo, configFile: join(repo, 'vite.main.config.ts'), build: { outDir: join(proj, '.vite/build') } });
    await viteBuild({ ...quiet, root: repo, configFile: join(repo, 'vite.preload.config.ts'), build: { outDir: join(proj, '.vite/build') } });
    execFileSync(process.execPath, [join(repo, 'scripts', 'build-cli.mjs'), join(proj, '.vite/build/cli.mjs')]);

    const dist = join(tmp, 'electron-dist');
    fakeElectronDist(dist);
    const { build, Platform, Arch } = require('electron-builder') as typeof import('electron-builder');
    const { LinuxTargetHelper } = require('app-builder-lib/out/targets/LinuxTargetHelper.js');
    await build({
      projectDir: proj,
      targets: Platform.LINUX.createTarget('dir', Arch.x64),
      publish: 'never',
      config: {
        electronDist: dist,
        electronVersion,
        directories: { output: out },
        // The .desktop file is written by the deb/AppImage targets, which need tools downloaded
        // at build time; the same helper they use renders it here from the real config.
        afterPack: async (ctx) => {
          const helper = new LinuxTargetHelper(ctx.packager);
          desktopEntry = await helper.computeDesktopEntry(ctx.packager.platformSpecificBuildOptions, undefined, { Icon: 'vireo' });
        },
      },
    });
  }, 240_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('puts the bundles, the renderer and package.json in app.asar', () => {
    const asar = require('@electron/asar') as typeof import('@electron/asar');
    const archive = join(out, 'linux-unpacked', 'resources', 'app.asar');
    expect(existsSync(archive)).toBe(true);
    const files = asar.listPackage(archive, { isPack: false }).map((f) => f.replaceAll('\\', '/'));
    for (const f of ['/package.json', '/.vite/build/main.js', '/.vite/build/preload.js', '/.vite/build/cli.mjs', '/.vite/renderer/main_window/index.html']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('/node_modules/'))).toBe(false);
    expect(files.some((f) => f.endsWith('.map'))).toBe(false);
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8'));
    expect(pkg.main).toBe('.vite/build/main.js');
    const main = asar.extractFile(archive, '.vite/build/main.js').toString('utf8');
    expect(main).toMatch(/from "electron"/);
    expect(main).not.toMatch(/from "(zod|ws|commander)"/);
  });

  it('ships the bundled CLI, which needs nothing beside it (the app runs it as the vireo command)', () => {
    const asar = require('@electron/asar') as typeof import('@electron/asar');
    const archive = join(out, 'linux-unpacked', 'resources', 'app.asar');
    const dir = join(tmp, 'cli-alone');
    mkdirSync(join(dir, '.vite', 'build'), { recursive: true });
    writeFileSync(join(dir, '.vite', 'build', 'cli.mjs'), asar.extractFile(archive, '.vite/build/cli.mjs'));
    writeFileSync(join(dir, 'package.json'), asar.extractFile(archive, 'package.json'));
    const v = execFileSync(process.execPath, [join(dir, '.vite', 'build', 'cli.mjs'), '--version'], { cwd: dir, encoding: 'utf8' });
    expect(v.trim()).toBe(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version);
    // main.js decides between the window and the CLI before anything else (cli-mode.ts)
    expect(asar.extractFile(archive, '.vite/build/main.js').toString('utf8')).toContain('cli.mjs');
  });

  it('ships resources/ and the tray icons next to the asar', () => {
    const res = join(out, 'linux-unpacked', 'resources');
    expect(existsSync(join(res, 'resources', 'probe', 'probe.img'))).toBe(true);
    expect(existsSync(join(res, 'resources', 'probe', 'probe.S'))).toBe(false);
    expect(existsSync(join(res, 'icons', '32x32.png'))).toBe(true);
    expect(existsSync(join(out, 'linux-unpacked', 'vireo'))).toBe(true);
    expect(existsSync(join(out, 'linux-unpacked', 'LICENSE.electron.txt'))).toBe(true);
  });

  it('flips the fuses in the packaged binary', async () => {
    const wire = await getCurrentFuseWire(join(out, 'linux-unpacked', 'vireo'));
    const want = fuseConfig({});
    for (const opt of [FuseV1Options.RunAsNode, FuseV1Options.EnableCookieEncryption, FuseV1Options.EnableNodeOptionsEnvironmentVariable, FuseV1Options.EnableNodeCliInspectArguments, FuseV1Options.EnableEmbeddedAsarIntegrityValidation, FuseV1Options.OnlyLoadAppFromAsar, FuseV1Options.GrantFileProtocolExtraPrivileges]) {
      expect([FuseV1Options[opt], wire[opt]]).toEqual([FuseV1Options[opt], want[opt] ? FuseState.ENABLE : FuseState.DISABLE]);
    }
  });

  it('describes the app to Linux desktops (System;Emulator;)', () => {
    expect(desktopEntry).toMatch(/^\[Desktop Entry\]$/m);
    expect(desktopEntry).toMatch(/^Name=Vireo$/m);
    expect(desktopEntry).toMatch(/^Categories=System;Emulator;$/m);
    expect(desktopEntry).toMatch(/^Exec=.*vireo %U$/m);
    expect(desktopEntry).toMatch(/^MimeType=application\/x-cd-image;application\/x-iso9660-image;$/m);
  });
});
