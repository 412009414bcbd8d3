// What is wrong with a snapshot name, shown in the dialog before the click: the engine refuses
// the same things (a second snapshot of a VM under a name it already has, ignoring case).

export function snapshotNameProblem(raw: string, taken: readonly string[]): string | null {
  const name = raw.trim();
  if (!name) return 'Give the snapshot a name.';
  if (name.length > 64) return 'At most 64 characters.';
  const clash = taken.find((t) => t.trim().toLowerCase() === name.toLowerCase());
  return clash !== undefined ? `A snapshot named “${clash}” exists: choose another name.` : null;
}
