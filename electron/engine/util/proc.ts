import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { VireoError } from '../../api/errors.ts';

// One way to run a tool: argv as an array, never a shell; a failure throws a VireoError that
// carries the argv, exit code and the tail of stderr, so the message can say what to do.

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** exit codes that count as success (qemu-img check uses 1..3 for findings) */
  okCodes?: number[];
  timeoutMs?: number;
  input?: string | Buffer;
  signal?: AbortSignal;
  /** error code used when the tool fails; TOOL_FAILED by default */
  errorCode?: 'TOOL_FAILED' | 'QEMU_FAILED';
  /** a sentence telling the user what to do when this fails */
  hint?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const okCodes = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    };
    let child;
    try {
      child = spawn(cmd, [...args], spawnOpts);
    } catch (e) {
      reject(new VireoError(opts.errorCode ?? 'TOOL_FAILED', `could not run ${cmd}: ${(e as Error).message}`, { argv: [cmd, ...args] }));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let aborted = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    const onAbort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const missing = e.code === 'ENOENT';
      reject(
        new VireoError(
          opts.errorCode ?? 'TOOL_FAILED',
          missing
            ? `${cmd} was not found${opts.hint ? `: ${opts.hint}` : ''}`
            : `could not run ${cmd}: ${e.message}`,
          { argv: [cmd, ...args], errno: e.code },
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (aborted) {
        reject(new VireoError('CANCELLED', `${cmd} was cancelled`, { argv: [cmd, ...args] }));
        return;
      }
      if (timedOut) {
        reject(new VireoError('TIMEOUT', `${cmd} did not finish within ${opts.timeoutMs} ms`, { argv: [cmd, ...args], stderr: tail(stderr) }));
        return;
      }
      const exit = code ?? -1;
      if (!okCodes.includes(exit)) {
        const why = tail(stderr, 5) || (signal ? `killed by ${signal}` : `exit code ${exit}`);
        reject(
          new VireoError(opts.errorCode ?? 'TOOL_FAILED', `${cmd} failed: ${why}${opts.hint ? ` — ${opts.hint}` : ''}`, {
            argv: [cmd, ...args],
            exitCode: exit,
            signal,
            stderr: tail(stderr),
          }),
        );
        return;
      }
      resolve({ stdout, stderr, code: exit });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * argv for a helper process that must not outlive this one (the accelerator probe: under a
 * broken KVM it never finishes, so an engine killed mid-test would orphan it). On Linux,
 * util-linux's setpriv sets the parent-death signal before exec'ing the real binary.
 * VMs themselves are NOT started this way: they are meant to outlive the engine.
 */
export function dieWithParent(cmd: string, args: readonly string[]): [string, string[]] {
  if (process.platform === 'linux' && SETPRIV) return [SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args]];
  return [cmd, [...args]];
}
