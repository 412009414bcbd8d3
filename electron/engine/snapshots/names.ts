import { VireoError } from '../../api/errors.ts';

// A snapshot is chosen by its name (CLI, GUI, restore dialogs): two of one VM under the same
// name made every later use of that name ambiguous, so a second one is refused up front.

/** Refuses `name` when another snapshot of the VM (not `self`) already has it, ignoring case. */
export function assertUniqueSnapshotName(vm: string, nodes: ReadonlyArray<{ id: string; name: string }>, name: string, self?: string): void {
  const wanted = name.trim().toLowerCase();
  const clash = nodes.find((n) => n.id !== self && n.name.trim().toLowerCase() === wanted);
  if (clash) {
    throw new VireoError('ALREADY_EXISTS', `"${vm}" already has a snapshot named "${clash.name}": choose another name, or rename or delete that one first`, {
      snapshot: clash.id,
    });
  }
}
