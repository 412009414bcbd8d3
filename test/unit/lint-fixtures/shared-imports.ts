// Fixture: linted as if it lived in electron/shared/. Every import is refused there.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { VmState } from '../api/types.ts';
export { MiB } from './size.ts';

export const x = [readFileSync, z, null as VmState | null];
export const later = () => import('./states.ts');
