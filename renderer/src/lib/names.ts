// VM names: the engine's rules restated for inline validation, and a unique suggestion.

/** Same rules as the contract's VmName (trimmed, 1..64, no separators, no control chars). */
export function nameProblem(raw: string, taken: Iterable<string>): string | null {
  const name = raw.trim();
  if (!name) return 'Name is empty: give the VM a name.';
  if (name.length > 64) return 'Name is longer than 64 characters: shorten it.';
  if (/[/\\]/.test(name)) return 'Name contains a path separator (/ or \\): remove it.';
  if (name === '.' || name === '..') return 'Name cannot be "." or "..".';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'Name contains control characters: remove them.';
  const lower = name.toLowerCase();
  for (const t of taken) {
    if (t.toLowerCase() === lower) return `A VM named "${name}" already exists: choose another name.`;
  }
  return null;
}

/**
 * A VM name from an installer's file name, for an OS the engine cannot identify:
 * "/isos/my_tool-1.2.iso" → "my tool-1.2" (folder and extension dropped, underscores spaced).
 */
export function nameFromPath(path: string): string | null {
  const stem = path.trim().split(/[/\\]/).pop()!.replace(/\.(iso|img|qcow2|raw|vmdk|vdi|vhdx)$/i, '');
  const tidy = stem.replace(/[_\s]+/g, ' ').trim();
  return tidy || null;
}

/** "Debian 12" → "Debian 12", then "Debian 12 (2)", ... skipping names already taken. */
export function suggestName(base: string, taken: Iterable<string>): string {
  const clean = base.replace(/[/\\]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 56) || 'New VM';
  const used = new Set([...taken].map((t) => t.toLowerCase()));
  if (!used.has(clean.toLowerCase())) return clean;
  for (let i = 2; ; i++) {
    const candidate = `${clean} (${i})`;
    if (!used.has(candidate.toLowerCase())) return candidate;
  }
}
