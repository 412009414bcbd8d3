import { z } from 'zod';
import { ACCELERATORS } from '../../shared/config-enums.ts';

/** Unicode's bidirectional formatting characters (UAX #9): marks, embeddings, overrides, isolates. */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** VM name: what a person types. Also a folder-name-safe label, so no path separators. */
/**
 * A name as stored in vm.json: what earlier versions accepted, so a VM named before the
 * stricter rules below still loads (it is not shown as broken for a name it already had).
 */
export const StoredVmName = z
  .string()
  .trim()
  .min(1, 'name is empty: give the VM a name of 1 to 64 characters')
  .max(64, 'name is longer than 64 characters: shorten it')
  .refine((s) => !/[/\\]/.test(s), 'name contains a path separator (/ or \\): remove it')
  .refine((s) => s !== '.' && s !== '..', 'name cannot be "." or ".."')
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'name contains control characters: remove them');

/** A new name (create, rename, clone): the stored rules plus no C1 controls or bidi overrides. */
export const VmName = StoredVmName
  .refine((s) => !/[\u0080-\u009f]/.test(s), 'name contains control characters: remove them')
  // Bidirectional controls make a name display as something else ("evil\u202Etxt.exe" shows as
  // "evilexe.txt") in the library, dialogs and logs.
  .refine((s) => !BIDI_CONTROLS.test(s), 'name contains invisible text-direction characters (U+061C, U+200E/F, U+202A-202E, U+2066-2069): remove them');

export const VmId = z.string().uuid('not a VM id (a UUID)');

/** A VM reference from a person or a script: its id or its name. */
export const VmRef = z.string().min(1, 'VM is empty: give a VM name or id').max(256, 'VM reference is longer than any VM name or id: give a name (at most 64 characters) or an id');

export const Accel = z.enum(ACCELERATORS);
export type Accel = z.infer<typeof Accel>;

// Sizes live in the dependency-free shared module (the renderer uses the same grammar);
// re-exported here so engine and CLI imports keep working.
export { SIZE_RE, parseSize, formatBytes } from '../../shared/size.ts';
