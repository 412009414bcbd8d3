// Fixture: linted as if it lived in renderer/src/. It must be rejected.
import { createEngine } from '../../electron/engine/index.ts';
import { methods } from '../../electron/api/contract.ts';

export const x = [createEngine, methods];
