#!/usr/bin/env node
// The `vireo` command (package.json "bin": `npm link`, `npm exec vireo`, node_modules/.bin).
// It runs the bundled JavaScript (.vite/build/, scripts/build-cli.mjs) on plain Node: no
// TypeScript is compiled at a call. `list` and `show` first go to cli-quick.mjs, which asks a
// running library owner (the app, `vireo serve`) over its socket without loading the rest of
// the CLI; anything else, or no owner, runs the full CLI (cli.mjs). In a source checkout a
// bundle older than any of its sources (cli-inputs.json lists them) is rebuilt first, so an
// edit is live at the next call, and a fresh checkout builds it at its first call; where
// esbuild is missing, the sources run through tsx instead (VIREO_CLI=source asks for that,
// VIREO_CLI=bundle for the bundles as they are). Either way signals (Ctrl+C in `vireo run
// --rm`), stdio and exit codes are the CLI's own. The packaged app runs the same cli.mjs in
// its main process (electron/main/cli-mode.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`vireo: needs Node.js 22.12 or newer (this is ${process.versions.node})\n`);
  process.exit(1);
}
const root = new URL('../', import.meta.url);
const source = new URL('electron/cli/main.ts', root);
const bundle = (name) => new URL(`.vite/build/${name}.mjs`, root);
const mode = process.env.VIREO_CLI;
const checkout = existsSync(source);

/** A bundle to run as it is: present, and (in a checkout) newer than every file it was built from. */
function fresh(name) {
  let built;
  try {
    built = statSync(bundle(name)).mtimeMs;
  } catch {
    return false;
  }
  if (!checkout || mode === 'bundle') return true;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(new URL('.vite/build/cli-inputs.json', root), 'utf8'))[name];
  } catch {
    return false;
  }
  if (!Array.isArray(inputs)) return false;
  for (const f of inputs) {
    try {
      if (statSync(new URL(f, root)).mtimeMs > built) return false;
    } catch {
      return false; // a source that is gone: the bundle was built from another tree
    }
  }
  return true;
}

let rebuilt = false;
/** Rebuilds the bundles from the checkout's sources; false where esbuild cannot be loaded. */
async function rebuild() {
  if (rebuilt) return true;
  let buildCli;
  try {
    ({ buildCli } = await import(new URL('scripts/build-cli.mjs', root).href));
  } catch {
    return false;
  }
  try {
    await buildCli();
  } catch (e) {
    // esbuild has printed what it could not bundle; say what that means for this call.
    process.stderr.write(`vireo: the CLI could not be bundled from this checkout's sources (${String(e.message).split('\n')[0]}): fix the error above, or run an installed vireo\n`);
    process.exit(1);
  }
  return (rebuilt = true);
}

async function runSource() {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('vireo: cannot run the CLI: its bundle (.vite/build/cli.mjs) is missing or out of date and neither esbuild nor tsx is installed here: run `npm ci && npm run build`\n');
    process.exit(1);
  }
  register();
  await import(source.href);
}

async function main() {
  if (mode === 'source' && checkout) return runSource();
  const args = process.argv.slice(2);
  if (args.includes('list') || args.includes('ls') || args.includes('show')) {
    if (fresh('cli-quick') || (checkout && (await rebuild()))) {
      const { quick } = await import(bundle('cli-quick').href);
      if (await quick(args)) return;
    }
  }
  if (checkout) {
    if (!fresh('cli') && !(await rebuild())) return runSource();
  } else if (!existsSync(bundle('cli'))) {
    process.stderr.write('vireo: the bundled CLI is missing (.vite/build/cli.mjs): run `npm run build`\n');
    process.exit(1);
  }
  // V8's code cache for the 2.8 MB bundle (in the OS temp folder, keyed by its content): the
  // next call skips most of its parsing and compiling.
  (await import('node:module')).enableCompileCache?.();
  await import(bundle('cli').href);
}

await main();
