#!/usr/bin/env node
// The `vireo` command (package.json "bin": `npm link`, `npm exec vireo`, node_modules/.bin).
// It runs the CLI's TypeScript source through tsx's loader in this same process, so signals
// (Ctrl+C in `vireo run --rm`), stdio and exit codes are the CLI's own, with no wrapper process
// in between. Issue #21 will ship a bundled CLI with the packaged app instead.
import { register } from 'tsx/esm/api';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`vireo: needs Node.js 22.12 or newer (this is ${process.versions.node})\n`);
  process.exit(1);
}
register();
await import('../electron/cli/main.ts');
