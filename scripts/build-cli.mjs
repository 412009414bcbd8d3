// Bundles the CLI (electron/cli/main.ts and everything it imports, npm packages included) into
// one plain-JavaScript file, .vite/build/cli.mjs, so `vireo` runs on Node without tsx and the
// packaged app (which ships .vite/build but no node_modules) can run it in its main process.
// Node built-ins stay imports; CommonJS packages inside the bundle get a real `require`.
// Beside it: cli-quick.mjs (electron/cli/quick.ts: `list`/`show` through a running owner, a few
// KB, so bin/vireo.js answers them at about the cost of a bare `node`), and cli-inputs.json,
// the project files each bundle was built from, by which bin/vireo.js tells a bundle that is
// older than its sources (and rebuilds it with buildCli()).
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const ENTRIES = { cli: 'electron/cli/main.ts', 'cli-quick': 'electron/cli/quick.ts' };

/** Builds both bundles; `outfile` places cli.mjs (and cli-quick.mjs beside it) elsewhere. */
export async function buildCli(outfile = join(root, '.vite/build/cli.mjs')) {
  const outDir = dirname(resolve(outfile));
  mkdirSync(outDir, { recursive: true });
  const inputs = {};
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const out = name === 'cli' ? resolve(outfile) : join(outDir, `${name}.mjs`);
    const r = await build({
      absWorkingDir: root,
      entryPoints: [join(root, entry)],
      outfile: out,
      write: false,
      metafile: true,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // Electron is never part of the CLI (test/unit/architecture keeps it out); if it ever were,
      // the bundle should fail loudly rather than carry it.
      external: ['electron'],
      banner: { js: "import { createRequire as __vireoRequire } from 'node:module'; const require = __vireoRequire(import.meta.url);" },
      legalComments: 'none',
      logLevel: 'warning',
    });
    // Written under a temporary name and renamed: a vireo started meanwhile (tests run many
    // at once) sees the old bundle or the new one, never half of one.
    for (const f of r.outputFiles) {
      const tmp = `${f.path}.${process.pid}.tmp`;
      writeFileSync(tmp, f.contents, { mode: 0o755 });
      renameSync(tmp, f.path);
    }
    inputs[name] = Object.keys(r.metafile.inputs).filter((p) => !p.includes('node_modules/'));
  }
  const tmp = join(outDir, `cli-inputs.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(inputs)}\n`);
  renameSync(tmp, join(outDir, 'cli-inputs.json'));
}

// an output path may be given (the packaging test builds into its own project copy)
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildCli(process.argv[2]);
