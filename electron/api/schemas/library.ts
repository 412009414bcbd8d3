import { z } from 'zod';
import { GROUP_NAME_MAX } from '../../shared/library-rules.ts';

// Arguments of the library's group methods (engine/library/).

export const GroupName = z
  .string()
  .trim()
  .min(1, 'group name is empty: give the group a name')
  .max(GROUP_NAME_MAX, `group name is longer than ${GROUP_NAME_MAX} characters: shorten it`)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .refine((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s), 'group name contains control characters: remove them');

/** A group by id or by name (ignoring case). */
export const GroupRef = z.string().min(1, 'group is empty: give a group name or id').max(256, 'group reference is longer than any group name or id');
