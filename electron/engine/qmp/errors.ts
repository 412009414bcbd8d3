import { VireoError } from '../../api/errors.ts';

/**
 * QMP answered a command with `{"error": {"class", "desc"}}`, or a job ended with an error
 * (errorClass 'JobFailed', not a QMP class: QEMU reports job failures as plain text).
 */
export class QmpError extends VireoError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    message: string,
    extra?: Record<string, unknown>,
  ) {
    super('QMP_ERROR', message, { command, errorClass, ...extra });
  }
}
