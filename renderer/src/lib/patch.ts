// Settings are sent as a partial tree (vms.update's patch): only what changed, arrays whole.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The smallest patch that turns `before` into `after`, or undefined if nothing changed. */
export function diffPatch(before: unknown, after: unknown): Record<string, unknown> | undefined {
  if (!isObj(before) || !isObj(after)) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    const a = after[key];
    const b = before[key];
    if (isObj(a) && isObj(b)) {
      const sub = diffPatch(b, a);
      if (sub) out[key] = sub;
    } else if (JSON.stringify(a as Json) !== JSON.stringify(b as Json)) {
      out[key] = a;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/** Extra QEMU args: one argument per line, blank lines ignored (never split on spaces). */
export const parseArgLines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
