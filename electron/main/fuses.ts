import { FuseV1Options, FuseVersion, type FuseV1Config } from '@electron/fuses';

// Electron fuses flipped in the packaged binary (Forge's fuses plugin and electron-builder's
// electronFuses both apply these; test/unit/main/fuses.test.ts keeps the two in step).
// Playwright's _electron drives the app through --inspect/--remote-debugging, so the test build
// (VIREO_TEST_BUILD=1) is the only one that keeps the inspector arguments.

export function fuseConfig(env: NodeJS.ProcessEnv = process.env): FuseV1Config {
  const testBuild = env.VIREO_TEST_BUILD === '1';
  return {
    version: FuseVersion.V1,
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: testBuild,
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
    // The renderer is served from app://, so file:// pages never need their extra privileges.
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  };
}

/** The same settings in electron-builder's `electronFuses` vocabulary (package.json "build"). */
export function builderFuses(env: NodeJS.ProcessEnv = process.env) {
  const f = fuseConfig(env);
  return {
    runAsNode: f[FuseV1Options.RunAsNode],
    enableCookieEncryption: f[FuseV1Options.EnableCookieEncryption],
    enableNodeOptionsEnvironmentVariable: f[FuseV1Options.EnableNodeOptionsEnvironmentVariable],
    enableNodeCliInspectArguments: f[FuseV1Options.EnableNodeCliInspectArguments],
    enableEmbeddedAsarIntegrityValidation: f[FuseV1Options.EnableEmbeddedAsarIntegrityValidation],
    onlyLoadAppFromAsar: f[FuseV1Options.OnlyLoadAppFromAsar],
    grantFileProtocolExtraPrivileges: f[FuseV1Options.GrantFileProtocolExtraPrivileges],
  };
}
