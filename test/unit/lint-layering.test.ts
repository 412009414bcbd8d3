import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The layering rules of eslint.config.js, shown on fixture files linted as if they lived at
// the guarded paths.

const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function lintAs(fixture: string, asPath: string, ruleId = '@typescript-eslint/no-restricted-imports') {
  const code = readFileSync(join(root, 'test/unit/lint-fixtures', fixture), 'utf8');
  const [result] = await eslint.lintText(code, { filePath: join(root, asPath) });
  return result!.messages.filter((m) => m.ruleId === ruleId);
}

describe('layering lint', () => {
  it('rejects electron imported from electron/engine', async () => {
    const msgs = await lintAs('engine-imports-electron.ts', 'electron/engine/some-module.ts');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.message).toMatch(/Only electron\/main and electron\/preload may import electron/);
  });

  it('accepts the same file in electron/main', async () => {
    expect(await lintAs('engine-imports-electron.ts', 'electron/main/some-module.ts')).toHaveLength(0);
  });

  it('rejects value imports from the engine or the API in the renderer', async () => {
    const msgs = await lintAs('renderer-imports-engine.ts', 'renderer/src/some-module.ts');
    expect(msgs.map((m) => m.message).join('\n')).toMatch(/never imports Node or main-process code/);
    expect(msgs.map((m) => m.message).join('\n')).toMatch(/only types from electron\/api/);
    expect(msgs).toHaveLength(2);
  });

  it('allows type-only imports from electron/api in the renderer', async () => {
    expect(await lintAs('renderer-imports-api-types.ts', 'renderer/src/some-module.ts')).toHaveLength(0);
  });

  it('allows value imports from electron/shared in the renderer', async () => {
    expect(await lintAs('renderer-imports-shared.ts', 'renderer/src/some-module.ts')).toHaveLength(0);
  });

  it('closes every other electron/ folder to the renderer, new ones included', async () => {
    const msgs = await lintAs('renderer-imports-other-electron.ts', 'renderer/src/some-module.ts');
    expect(msgs).toHaveLength(2);
    for (const m of msgs) expect(m.message).toMatch(/never imports Node or main-process code/);
  });

  it('refuses every kind of import inside electron/shared', async () => {
    const msgs = await lintAs('shared-imports.ts', 'electron/shared/some-module.ts', 'no-restricted-syntax');
    // node:fs, zod, a type-only import, a re-export and a dynamic import: five, one each.
    expect(msgs.map((m) => m.line)).toEqual([2, 3, 4, 5, 8]);
    for (const m of msgs) expect(m.message).toMatch(/electron\/shared is dependency-free/);
  });

  it('accepts plain code in electron/shared, and the same imports outside it', async () => {
    expect(await lintAs('shared-pure.ts', 'electron/shared/some-module.ts', 'no-restricted-syntax')).toHaveLength(0);
    expect(await lintAs('shared-imports.ts', 'electron/engine/some-module.ts', 'no-restricted-syntax')).toHaveLength(0);
  });
});
