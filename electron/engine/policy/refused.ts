import { VireoError } from '../../api/errors.ts';

/**
 * A request a web caller may not make (outside the allowed folders, extra QEMU arguments).
 * UNAUTHORIZED, as for an IPC call from a foreign frame: the caller, not the input, is the
 * problem; `confined` tells it apart from a missing token.
 */
export function refused(message: string, details: Record<string, unknown>): VireoError {
  return new VireoError('UNAUTHORIZED', message, { ...details, confined: true });
}
