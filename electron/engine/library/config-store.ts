import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { VireoError } from '../../api/errors.ts';
import { CONFIG_SCHEMA_VERSION, VmConfigSchema, type VmConfig } from '../../api/schemas/vm-config.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';

// vm.json: read → migrate to the current schemaVersion → parse. Anything unreadable is a
// BROKEN_CONFIG with a reason a person can act on; the caller shows that VM as broken and
// loads the others.

type Migration = (old: Record<string, unknown>) => Record<string, unknown>;

/**
 * migrations[n] turns a version-n document into version n+1. Version 1 is the first, so the
 * table is empty; it exists so that the next schema change is a one-line addition here plus a
 * test, not a rewrite of the loader.
 */
export const migrations: Record<number, Migration> = {};

export function migrate(doc: unknown, file = 'vm.json'): Record<string, unknown> {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new VireoError('BROKEN_CONFIG', `${file} does not hold a JSON object`);
  }
  let cur = doc as Record<string, unknown>;
  const v = cur.schemaVersion;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new VireoError('BROKEN_CONFIG', `${file} has no valid schemaVersion (found ${JSON.stringify(v)})`);
  }
  if (v > CONFIG_SCHEMA_VERSION) {
    throw new VireoError(
      'BROKEN_CONFIG',
      `${file} was written by a newer Vireo (schemaVersion ${v}, this one reads up to ${CONFIG_SCHEMA_VERSION}): update Vireo to open this VM`,
      { schemaVersion: v },
    );
  }
  for (let ver = v; ver < CONFIG_SCHEMA_VERSION; ver++) {
    const step = migrations[ver];
    if (!step) throw new VireoError('INTERNAL', `no migration from schemaVersion ${ver}`);
    cur = { ...step(cur), schemaVersion: ver + 1 };
  }
  return cur;
}

export function parseConfig(doc: unknown, file = 'vm.json'): VmConfig {
  const migrated = migrate(doc, file);
  const r = VmConfigSchema.safeParse(migrated);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new VireoError('BROKEN_CONFIG', `${file} is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return r.data;
}

export async function readConfig(file: string): Promise<VmConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VireoError('BROKEN_CONFIG', code === 'ENOENT' ? `${file} is missing` : `${file} cannot be read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new VireoError('BROKEN_CONFIG', `${file} is not valid JSON (${(e as Error).message}); restore it from a backup or delete the VM`);
  }
  return parseConfig(doc, file);
}

export async function writeConfig(file: string, config: VmConfig): Promise<void> {
  // Parse before writing: a config that would not load again must never reach the disk.
  const checked = VmConfigSchema.parse(config);
  await writeJsonAtomic(file, checked);
}

/** Deep-merge a settings patch (plain objects merge, arrays and scalars replace). */
export function mergePatch(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = mergePatch(base[k], v);
  return out;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  !!x && typeof x === 'object' && !Array.isArray(x);

export const zodIssues = (e: z.ZodError) => e.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
