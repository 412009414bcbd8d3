// Fixture: linted as if it lived in renderer/src/. Values from electron/shared are fine.
import { formatBytes } from '../../electron/shared/size.ts';
import { isActive } from '../../electron/shared/states.ts';

export const label = (bytes: number, state: 'running') => `${formatBytes(bytes)} ${isActive(state)}`;
