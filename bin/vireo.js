#!/usr/bin/env node
// The `vireo` command (package.json "bin": `npm link`, `npm exec vireo`, node_modules/.bin).
// In a source checkout it runs the CLI's TypeScript through tsx's loader in this same process,
// so an edit is live; where the sources are absent (an installed package) or VIREO_CLI=bundle,
// it runs the bundled JavaScript (.vite/build/cli.mjs, `npm run build`) on plain Node. Either
// way signals (Ctrl+C in `vireo run --rm`), stdio and exit codes are the CLI's own. The
// packaged app runs the same bundle in its main process (electron/main/cli-mode.ts).
import { existsSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`vireo: needs Node.js 22.12 or newer (this is ${process.versions.node})\n`);
  process.exit(1);
}
const source = new URL('../electron/cli/main.ts', import.meta.url);
const bundle = new URL('../.vite/build/cli.mjs', import.meta.url);
if (process.env.VIREO_CLI === 'bundle' || !existsSync(source)) {
  if (!existsSync(bundle)) {
    process.stderr.write('vireo: the bundled CLI is missing (.vite/build/cli.mjs): run `npm run build`\n');
    process.exit(1);
  }
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
}
