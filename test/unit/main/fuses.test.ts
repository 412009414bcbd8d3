import { readFileSync } from 'node:fs';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { describe, expect, it } from 'vitest';
import { builderFuses, fuseConfig } from '../../../electron/main/fuses.ts';

describe('fuses', () => {
  it('turn off Node escape hatches and require the asar', () => {
    const f = fuseConfig({});
    expect(f.version).toBe(FuseVersion.V1);
    expect(f[FuseV1Options.RunAsNode]).toBe(false);
    expect(f[FuseV1Options.EnableCookieEncryption]).toBe(true);
    expect(f[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(f[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    expect(f[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(f[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
    expect(f[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(false);
  });

  it('keep the inspector only in the test build Playwright drives', () => {
    expect(fuseConfig({ VIREO_TEST_BUILD: '1' })[FuseV1Options.EnableNodeCliInspectArguments]).toBe(true);
    expect(fuseConfig({ VIREO_TEST_BUILD: '0' })[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    const other = { ...fuseConfig({ VIREO_TEST_BUILD: '1' }) } as Record<string, unknown>;
    delete other[FuseV1Options.EnableNodeCliInspectArguments];
    const base = { ...fuseConfig({}) } as Record<string, unknown>;
    delete base[FuseV1Options.EnableNodeCliInspectArguments];
    expect(other).toEqual(base);
  });

  it('electron-builder (package.json "build".electronFuses) flips the same fuses as Forge', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(pkg.build.electronFuses).toEqual(builderFuses({}));
  });
});
