import { readFileSync } from 'node:fs';

// Read once from package.json at the repo/app root; bundlers inline it via define when built.
declare const __VIREO_VERSION__: string | undefined;

function readVersion(): string {
  if (typeof __VIREO_VERSION__ === 'string') return __VIREO_VERSION__;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const APP_VERSION = readVersion();
