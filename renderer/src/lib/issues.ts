import type { WireError } from '../../../electron/api/errors.ts';

// INVALID_ARGUMENT errors carry details.issues[] with dotted paths ("patch.system.memoryMiB",
// "name"); forms show each message next to the field whose path it names.

export interface Issue {
  path: string;
  message: string;
}

export function issuesOf(err: WireError | null | undefined): Issue[] {
  const d = err?.details as { issues?: unknown } | undefined;
  if (!d || !Array.isArray(d.issues)) return [];
  return d.issues.filter(
    (i): i is Issue => !!i && typeof i === 'object' && typeof (i as Issue).path === 'string' && typeof (i as Issue).message === 'string',
  );
}

/** Issues keyed by field path, with a leading prefix (e.g. "patch.") removed. */
export function issuesByField(err: WireError | null | undefined, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of issuesOf(err)) {
    const p = prefix && i.path.startsWith(prefix) ? i.path.slice(prefix.length) : i.path;
    if (!out.has(p)) out.set(p, i.message);
  }
  return out;
}

/** The message for a field: exact path, else the nearest issue below it (system.x → system). */
export function fieldIssue(map: Map<string, string>, field: string): string | undefined {
  if (map.has(field)) return map.get(field);
  for (const [p, m] of map) if (p.startsWith(`${field}.`)) return m;
  return undefined;
}
