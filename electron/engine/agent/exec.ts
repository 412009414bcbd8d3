import { setTimeout as sleep } from 'node:timers/promises';
import { VireoError } from '../../api/errors.ts';
import type { AgentExecResult } from '../../api/types.ts';
import type { AgentCallOptions } from './protocol.ts';

// Running a program in the guest: guest-exec starts it (the agent keeps its output, at most
// 16 MiB per stream), guest-exec-status is polled until it has exited. The poll starts fast
// (most commands are short) and slows down, so a long command costs the guest little.

export type AgentCall = <T>(command: string, args?: object, opts?: AgentCallOptions) => Promise<T>;

export interface ExecOptions {
  /** how long the command may run; then it is killed (POSIX guests) and the result says timedOut */
  timeoutMs?: number;
  /** bytes for the command's stdin */
  input?: Buffer;
  /** extra environment, "NAME=value" */
  env?: string[];
  signal?: AbortSignal;
}

interface ExecStatus {
  exited: boolean;
  exitcode?: number;
  signal?: number;
  'out-data'?: string;
  'err-data'?: string;
  'out-truncated'?: boolean;
  'err-truncated'?: boolean;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 5 * 60_000;

export async function execInGuest(call: AgentCall, path: string, args: string[], opts: ExecOptions = {}): Promise<AgentExecResult> {
  if (!path) throw new VireoError('INVALID_ARGUMENT', 'no command given: name the program to run in the guest', { field: 'path' });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const { pid } = await call<{ pid: number }>('guest-exec', {
    path,
    arg: args,
    ...(opts.env?.length ? { env: opts.env } : {}),
    ...(opts.input ? { 'input-data': opts.input.toString('base64') } : {}),
    'capture-output': true,
  });
  const deadline = Date.now() + timeoutMs;
  let wait = 50;
  for (;;) {
    const st = await call<ExecStatus>('guest-exec-status', { pid });
    if (st.exited) {
      return {
        exitCode: typeof st.exitcode === 'number' ? st.exitcode : null,
        signal: typeof st.signal === 'number' ? st.signal : null,
        stdout: Buffer.from(st['out-data'] ?? '', 'base64').toString('utf8'),
        stderr: Buffer.from(st['err-data'] ?? '', 'base64').toString('utf8'),
        truncated: !!(st['out-truncated'] || st['err-truncated']),
        timedOut: false,
      };
    }
    if (opts.signal?.aborted || Date.now() >= deadline) {
      // qemu-ga 7 has no "kill this exec": ask the guest's own kill (POSIX guests; a Windows
      // guest has no kill and the command keeps running there, which the message says).
      const killed = await call<{ pid: number }>('guest-exec', { path: 'kill', arg: ['-KILL', String(pid)] }).then(() => true, () => false);
      const why = opts.signal?.aborted ? 'was cancelled' : `did not finish within ${Math.round(timeoutMs / 1000)} s`;
      return {
        exitCode: null,
        signal: null,
        stdout: '',
        stderr: `${path} ${why}${killed ? ' and was killed' : '; it may still be running in the guest'}\n`,
        truncated: false,
        timedOut: true,
      };
    }
    await sleep(Math.min(wait, Math.max(deadline - Date.now(), 1)));
    wait = Math.min(wait * 2, 1000);
  }
}
