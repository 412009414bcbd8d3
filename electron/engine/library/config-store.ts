import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { VireoError } from '../../api/errors.ts';
import { CONFIG_SCHEMA_VERSION, VmConfigSchema, type VmConfig } from '../../api/schemas/vm-config.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';

// vm.json: read → migrate to the current schemaVersion → parse. Anything unreadable is a
// BROKEN_CONFIG with a reason a person can act on; the caller shows that VM as broken and
// loads the others.

type Migration = (old: Record<string, unknown>, file: string) => Record<string, unknown>;

/**
 * migrations[n] turns a version-n document into version n+1, on the raw JSON (before zod
 * fills defaults), and the loop in migrate() stamps the new schemaVersion. A schema change is
 * one line here plus a test on a real old vm.json in test/fixtures/. A field with a default
 * (sharedFolders: [], usb: [], group: null when those features land) needs no step of its
 * own: bump CONFIG_SCHEMA_VERSION, add `n: (d) => d` and let the schema's default fill it.
 */
export const migrations: Record<number, Migration> = {
  // v1 → v2: one `network` object becomes `networks: Nic[]` (none → no NIC, so the argv of a
  // migrated VM is byte-for-byte the v1 one); arch and backend appear with today's only values.
  1: (d, file) => {
    const { network, ...rest } = d;
    if (!isPlainObject(network)) {
      throw new VireoError('BROKEN_CONFIG', `${file} (schemaVersion 1) has no "network" object: restore the file from a backup or delete the VM`);
    }
    const { mode, ...nic } = network;
    return { ...rest, arch: 'x86_64', backend: 'qemu', networks: mode === 'none' ? [] : [{ id: 'net0', ...nic, mode: mode ?? 'user' }] };
  },
};

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
    cur = { ...step(cur, file), schemaVersion: ver + 1 };
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

/**
 * Deep-merge a settings patch: plain objects merge, scalars replace, arrays replace, except
 * that an element carrying an `id` (disks, NICs) merges onto the base element with that id.
 * So `networks: [{ id: 'net0', model: 'e1000' }]` changes the card's model and keeps its MAC,
 * while leaving an element out of the array still removes it.
 */
export function mergePatch(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    return patch.map((el: unknown) => {
      const id = isPlainObject(el) ? el.id : undefined;
      const match = id === undefined ? undefined : base.find((b: unknown) => isPlainObject(b) && b.id === id);
      return match === undefined ? el : mergePatch(match, el);
    });
  }
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = mergePatch(base[k], v);
  return out;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  !!x && typeof x === 'object' && !Array.isArray(x);

export const zodIssues = (e: z.ZodError) => e.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
