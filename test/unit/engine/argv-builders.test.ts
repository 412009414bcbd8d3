import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILDERS, buildArgv, makeHelpers } from '../../../electron/engine/qemu/argv/index.ts';
import { CASES, DEVICE_CASES, DISPLAY_CASES, NAT_CASES, RESUME_CASES, SHARE_CASES, contextFor } from './golden/fixtures.ts';

// Golden files per concern: each builder's own output for every whole-VM case where it emits
// anything, in test/unit/engine/golden/<concern>/<case>.argv.json. A change to one concern
// shows up in that concern's files; the whole-VM files (argv.test.ts) show the composition.
// Rewrite after an intended change with
// `VIREO_UPDATE_GOLDEN=1 npx vitest run test/unit/engine/argv-builders.test.ts` and review the diff.

const GOLDEN = join(import.meta.dirname, 'golden');
const update = process.env.VIREO_UPDATE_GOLDEN === '1';
const ALL = { ...CASES, ...RESUME_CASES, ...SHARE_CASES, ...DISPLAY_CASES, ...NAT_CASES, ...DEVICE_CASES };

function outputs(concern: string): [string, string[]][] {
  const build = BUILDERS.find(([c]) => c === concern)![1];
  return Object.entries(ALL).map(([name, c]) => {
    const ctx = contextFor(c);
    return [name, build(c.config, ctx, makeHelpers(c.config, ctx))];
  });
}

describe('argv golden files per concern', () => {
  for (const [concern] of BUILDERS) {
    describe(concern, () => {
      const dir = join(GOLDEN, concern);
      const results = outputs(concern).filter(([, argv]) => argv.length > 0);
      it('emits something for at least one case, so its golden files pin it', () => expect(results.length).toBeGreaterThan(0));
      for (const [name, argv] of results) {
        it(name, () => {
          const file = join(dir, `${name}.argv.json`);
          if (update) {
            mkdirSync(dir, { recursive: true });
            writeFileSync(file, JSON.stringify(argv, null, 2) + '\n');
          }
          if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with VIREO_UPDATE_GOLDEN=1 to create it`);
          expect(argv).toEqual(JSON.parse(readFileSync(file, 'utf8')));
        });
      }
      it('has no golden file for a case it emits nothing for', () => {
        const files = existsSync(dir) ? readdirSync(dir).map((f) => f.replace(/\.argv\.json$/, '')) : [];
        expect(files.sort()).toEqual(results.map(([n]) => n).sort());
      });
    });
  }
});

describe('buildArgv composes the builders', () => {
  for (const [name, c] of Object.entries(ALL)) {
    it(`${name}: the concerns in order, then the user's arguments`, () => {
      const ctx = contextFor(c);
      const h = makeHelpers(c.config, ctx);
      const parts = BUILDERS.flatMap(([, build]) => build(c.config, ctx, h));
      expect(buildArgv(c.config, ctx)).toEqual([...parts, ...c.config.advanced.extraArgs]);
    });
  }

  it('puts the second monitor and -loadvm after every device and before the user arguments', () => {
    const c = RESUME_CASES['restore-snapshot']!;
    const argv = buildArgv(c.config, contextFor(c));
    const i = argv.indexOf('-loadvm');
    expect(argv.slice(i - 2)).toEqual(['-qmp', 'unix:/run/vireo/3f2c1b7e/qmp-cmd.sock,server=on,wait=off', '-loadvm', 'before upgrade,1', '-device', 'pvpanic']);
    expect(argv.filter((a) => a === '-qmp')).toHaveLength(2);
  });

  it('escapes a comma in the second monitor socket path, and leaves no -loadvm without a tag', () => {
    const c = structuredClone(CASES['modern-linux']!);
    c.ctx.sockets = { qmpCmd: '/run/a,b/qmp-cmd.sock' };
    const argv = buildArgv(c.config, contextFor(c));
    expect(argv).toContain('unix:/run/a,,b/qmp-cmd.sock,server=on,wait=off');
    expect(argv).not.toContain('-loadvm');
  });
});
