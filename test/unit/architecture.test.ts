import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The tree shows the architecture, and stays that way: no source module grows past the size a
// person can hold in their head, and no two modules import each other in a ring (type-only
// imports included: a type cycle is a design cycle too, and it is how value cycles start).

const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['electron', 'renderer/src', 'scripts', 'bench'];
const MAX_LINES = 400;

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(ROOT, d))) walk(join(ROOT, d));
  return out;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Relative imports of a module, resolved to files. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (!spec || !spec.startsWith('.')) continue;
    const base = resolve(dirname(file), spec);
    const cand = [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((c) => existsSync(c) && statSync(c).isFile());
    if (cand) out.push(cand);
  }
  return out;
}

/** Strongly connected components with more than one module (or a module importing itself). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return found;
}

describe('architecture', () => {
  const files = sourceFiles();

  it(`no source module is longer than ${MAX_LINES} lines`, () => {
    const long = files
      .map((f) => ({ f: relative(ROOT, f), n: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.n > MAX_LINES)
      .map((x) => `${x.f}: ${x.n}`);
    expect(long).toEqual([]);
  });

  it('no import cycles between modules, type-only imports included', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    const rings = cycles(graph).map((c) => c.map((f) => relative(ROOT, f)).join(' ⇄ '));
    expect(rings).toEqual([]);
  });

  it('the cycle finder finds a ring, type-only edges included (so the check above can fail)', () => {
    const a = join(ROOT, 'electron/x/a.ts');
    const b = join(ROOT, 'electron/x/b.ts');
    const c = join(ROOT, 'electron/x/c.ts');
    expect(cycles(new Map([[a, [b]], [b, [c]], [c, [a]]])).map((r) => r.length)).toEqual([3]);
    expect(cycles(new Map([[a, [b]], [b, []], [c, [a]]]))).toEqual([]);
    // The import parser sees type-only, re-export and dynamic imports.
    const here = join(ROOT, 'electron/engine/index.ts');
    const parsed = importsOf(here, "import type { X } from './paths.ts';\nexport { y } from './arch.ts';\nconst z = await import('./jobs.ts');\n");
    expect(parsed.map((p) => relative(ROOT, p))).toEqual(['electron/engine/paths.ts', 'electron/engine/arch.ts', 'electron/engine/jobs.ts']);
  });
});
