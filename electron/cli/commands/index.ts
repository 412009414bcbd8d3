import type { Registrar } from '../kit.ts';

// Feature areas' command groups, in the order `vireo --help` lists them after the core ones.
export const REGISTRARS: Registrar[] = [];
