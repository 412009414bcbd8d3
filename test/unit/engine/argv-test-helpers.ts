import { VireoError } from '../../../electron/api/errors.ts';

// Small readers the argv tests share.

/** Every value that follows `flag` in argv (each `-device …`, each `-netdev …`). */
export const after = (argv: string[], flag: string) => argv.filter((_, i) => argv[i - 1] === flag);

/** The VireoError code `fn` throws, "no error", or what else it threw. */
export const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof VireoError ? e.code : `not a VireoError: ${String(e)}`;
  }
  return 'no error';
};
