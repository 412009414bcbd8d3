// Errors that cross a transport (IPC, WebSocket, in-process) as plain data with a stable code.
// The code is what callers branch on; the message says what failed, with what input, and what
// to do next; details carry structured context (argv, exit code, stderr tail, field paths).

export const ERROR_CODES = [
  'INVALID_ARGUMENT', // arguments failed their schema or a semantic check
  'UNKNOWN_METHOD',
  'BAD_REQUEST', // malformed frame or envelope
  'UNAUTHORIZED',
  'NOT_FOUND', // VM, snapshot, job, disk ... does not exist
  'ALREADY_EXISTS',
  'INVALID_STATE', // operation not allowed in the VM's current state
  'BROKEN_CONFIG', // vm.json unreadable, corrupt or from an unknown version
  'QEMU_NOT_FOUND',
  'QEMU_FAILED', // QEMU exited or refused to start
  'QMP_ERROR', // QMP answered with an error (details.errorClass)
  'QMP_DISCONNECTED',
  'AGENT_UNAVAILABLE', // no guest agent answers in the VM (not running, not installed, or restarting)
  'AGENT_ERROR', // the guest agent answered with an error (details.errorClass, details.desc)
  'TIMEOUT',
  'TOOL_FAILED', // an external tool (qemu-img, swtpm, xorriso) failed
  'IO_ERROR',
  'NO_SPACE', // the disk is full: details.folder, details.neededBytes, details.freeBytes
  'UNSUPPORTED', // feature not available here; message says why
  'OVERCOMMIT', // starting would take more memory than the host has available: details is the report; retry with overcommit to go on
  'IN_USE', // e.g. a base image that linked clones depend on
  'PERMISSION_DENIED', // the host refuses access (a USB device node not writable): the message says the fix
  'BUSY', // another process owns the library (details.pid, details.role), or it is shutting down
  'CANCELLED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class VireoError extends Error {
  override readonly name = 'VireoError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromWire(w: WireError): VireoError {
    return new VireoError(w.code, w.message, w.details);
  }
}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && (ERROR_CODES as readonly string[]).includes(x);
}

/** Any thrown value as a wire error; unknown errors become INTERNAL without a stack. */
export function toWireError(err: unknown): WireError {
  if (err instanceof VireoError) return err.toWire();
  if (err && typeof err === 'object' && 'code' in err && isErrorCode((err as WireError).code)) {
    const e = err as WireError;
    return { code: e.code, message: String(e.message) };
  }
  const message = err instanceof Error ? err.message : String(err);
  // A full disk is the user's to fix, never an internal error; the engine's own NO_SPACE
  // (util/space.ts) says more, this is the net for a write that did not go through it.
  const errno = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    const path = (err as { path?: unknown }).path;
    return {
      code: 'NO_SPACE',
      message: `not enough free space${typeof path === 'string' ? ` to write ${path}` : ''}: free some space on that disk, then try again`,
      ...(typeof path === 'string' ? { details: { path } } : {}),
    };
  }
  return { code: 'INTERNAL', message: `internal error: ${message}` };
}

export const isWireError = (x: unknown): x is WireError =>
  !!x && typeof x === 'object' && isErrorCode((x as WireError).code) &&
  typeof (x as WireError).message === 'string';
