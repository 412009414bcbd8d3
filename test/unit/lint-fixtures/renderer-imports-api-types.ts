// Fixture: linted as if it lived in renderer/src/. Type-only imports from the API are fine.
import type { VmSummary } from '../../electron/api/types.ts';

export const names = (vms: VmSummary[]) => vms.map((v) => v.name);
