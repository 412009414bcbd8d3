import type { z } from 'zod';
import { VireoError } from '../../api/errors.ts';

// A settings patch is merged onto vm.json and the result parsed again; zod's objects strip
// keys they do not know, so `{"sytem": {"cpus": 4}}` used to "succeed" and change nothing.
// This walks a patch against the config schema and names every key the schema does not
// have, at any depth (inside arrays too), before anything is merged.

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object/array schema under wrappers (default, optional, pipe...), or null when it is a leaf. */
function structural(schema: z.ZodType): Def | null {
  let s = schema;
  for (let i = 0; i < 16; i++) {
    const d = defOf(s);
    if (d.type === 'object' || d.type === 'array') return d;
    const inner = d.innerType ?? d.in;
    if (!inner) return null;
    s = inner;
  }
  return null;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** Dotted paths of the keys in `value` that `schema` does not define ("system.cpuz", "disks.0.fiel"). */
export function unknownKeys(schema: z.ZodType, value: unknown, path: string[] = []): string[] {
  const d = structural(schema);
  if (!d) return [];
  if (d.type === 'array') {
    if (!Array.isArray(value) || !d.element) return [];
    return value.flatMap((el, i) => unknownKeys(d.element!, el, [...path, String(i)]));
  }
  if (!isPlainObject(value) || !d.shape) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    // hasOwn: "__proto__" or "constructor" must not pass for a key through the prototype.
    if (!Object.hasOwn(d.shape, k)) out.push([...path, k].join('.'));
    else out.push(...unknownKeys(d.shape[k]!, v, [...path, k]));
  }
  return out;
}

/** INVALID_ARGUMENT naming the unknown keys and, for the first, the keys known at its level. */
export function assertKnownKeys(schema: z.ZodType, patch: unknown): void {
  const unknown = unknownKeys(schema, patch);
  if (!unknown.length) return;
  const first = unknown[0]!;
  const parent = first.split('.').slice(0, -1);
  const known = knownAt(schema, parent);
  throw new VireoError(
    'INVALID_ARGUMENT',
    `unknown setting${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: check the spelling${known.length ? ` (known ${parent.length ? `in ${parent.join('.')}` : 'at the top'}: ${known.join(', ')})` : ''}`,
    { issues: unknown.map((p) => ({ path: p, message: 'unknown setting' })) },
  );
}

function knownAt(schema: z.ZodType, path: string[]): string[] {
  let d = structural(schema);
  for (const part of path) {
    if (!d) return [];
    const next = d.type === 'array' ? d.element : d.shape?.[part];
    if (!next) return [];
    d = structural(next);
  }
  return d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}
