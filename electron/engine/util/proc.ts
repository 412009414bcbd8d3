import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { VireoError } from '../../api/errors.ts';

// The one way this engine starts a process. Argv is an array, never a shell; the environment
// is a cleaned copy unless the caller passes one. Three shapes:
// - run(): a tool that finishes; failure throws a VireoError carrying argv, exit code and the
//   tail of stderr, so the message can say what to do.
// - runSettled(): the same, but every outcome (exit code, timeout, cancel) comes back as data,
//   for callers that judge the outcome themselves (the accelerator probe).
// - spawnDetached(): a long-lived child that must outlive this engine (QEMU, swtpm).
// Streaming hooks (onStdout/onStderr) let a caller read progress while the tool works.

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
  /** called with each chunk of stdout as it arrives (decoded with `encoding`) */
  onStdout?: (chunk: string) => void;
  /** called with each chunk of stderr as it arrives */
  onStderr?: (chunk: string) => void;
  /** stdout decoding; latin1 keeps arbitrary serial bytes one-to-one */
  encoding?: BufferEncoding;
  /** bytes of stdout/stderr kept for the result; more is dropped from the front */
  maxOutputBytes?: number;
  /** Linux: the child gets SIGKILL if this engine dies (helpers that must not be orphaned) */
  dieWithParent?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface SettledRun {
  argv: string[];
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** set when the process could not be started at all */
  spawnError?: NodeJS.ErrnoException;
}

export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

const SAFE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'XDG_RUNTIME_DIR', 'SystemRoot', 'USERPROFILE', 'TEMP', 'TMP', 'PATHEXT', 'WINDIR'];

/** Tools need none of our environment's secrets, nor Node's debugging hooks (NODE_OPTIONS). */
export function cleanEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const k of SAFE_ENV) if (env[k] !== undefined) out[k] = env[k];
  return out;
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

class Capped {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(s: string) {
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > this.max && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text() {
    const t = this.chunks.join('');
    return t.length > this.max ? t.slice(-this.max) : t;
  }
}

/** Runs a tool to its end and reports every outcome as data; never rejects. */
export function runSettled(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<SettledRun> {
  const [file, argv] = opts.dieWithParent ? dieWithParent(cmd, args) : [cmd, [...args]];
  const shown = [cmd, ...args];
  return new Promise((resolve) => {
    let child: ChildProcess;
    const base = { argv: shown, stdout: '', stderr: '', code: null, signal: null, timedOut: false, aborted: false };
    try {
      child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'], shell: false, windowsHide: true });
    } catch (e) {
      resolve({ ...base, spawnError: e as NodeJS.ErrnoException });
      return;
    }
    const max = opts.maxOutputBytes ?? 8 * 1024 * 1024;
    const out = new Capped(max);
    const err = new Capped(Math.min(max, 256 * 1024));
    let timedOut = false;
    let aborted = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    const kill = () => child.kill('SIGKILL');
    const timer = opts.timeoutMs ? setTimeout(() => ((timedOut = true), kill()), opts.timeoutMs) : undefined;
    const onAbort = () => ((aborted = true), kill());
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.setEncoding(opts.encoding ?? 'utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      out.push(s);
      opts.onStdout?.(s);
    });
    child.stderr!.on('data', (s: string) => {
      err.push(s);
      opts.onStderr?.(s);
    });
    child.stdin!.on('error', () => {}); // a tool that exits without reading its input
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    // 'close' waits for the pipes as well as the exit: no output is lost, and the process is
    // gone by the time the caller sees the result.
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...base, stdout: out.text(), stderr: err.text(), code, signal, timedOut, aborted, ...(spawnError ? { spawnError } : {}) });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** The error a settled run that did not succeed stands for. */
export function runFailure(r: SettledRun, opts: Pick<RunOptions, 'errorCode' | 'hint' | 'timeoutMs'> = {}): VireoError {
  const [cmd] = r.argv;
  const code = opts.errorCode ?? 'TOOL_FAILED';
  if (r.spawnError) {
    const missing = r.spawnError.code === 'ENOENT';
    return new VireoError(code, missing ? `${cmd} was not found${opts.hint ? `: ${opts.hint}` : ''}` : `could not run ${cmd}: ${r.spawnError.message}`, {
      argv: r.argv,
      errno: r.spawnError.code,
    });
  }
  if (r.aborted) return new VireoError('CANCELLED', `${cmd} was cancelled`, { argv: r.argv });
  if (r.timedOut) return new VireoError('TIMEOUT', `${cmd} did not finish within ${opts.timeoutMs} ms`, { argv: r.argv, stderr: tail(r.stderr) });
  const exit = r.code ?? -1;
  const why = tail(r.stderr, 5) || (r.signal ? `killed by ${r.signal}` : `exit code ${exit}`);
  return new VireoError(code, `${cmd} failed: ${why}${opts.hint ? ` — ${opts.hint}` : ''}`, { argv: r.argv, exitCode: exit, signal: r.signal, stderr: tail(r.stderr) });
}

export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runSettled(cmd, args, opts);
  const okCodes = opts.okCodes ?? [0];
  if (r.spawnError || r.aborted || r.timedOut || r.code === null || !okCodes.includes(r.code)) throw runFailure(r, opts);
  return { stdout: r.stdout, stderr: r.stderr, code: r.code };
}

/**
 * A program the user works in (`vireo ssh` → ssh): the terminal is its own (stdio inherited),
 * and so is the environment (ssh needs SSH_AUTH_SOCK, TERM…: the user's own tool, not ours).
 * Resolves with its exit code (128+N when killed by signal N).
 */
export function runInteractive(cmd: string, args: readonly string[], hint = 'install it or put it on PATH'): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { stdio: 'inherit', shell: false, windowsHide: false });
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new VireoError('TOOL_FAILED', e.code === 'ENOENT' ? `${cmd} was not found: ${hint}` : `could not run ${cmd}: ${e.message}`, { argv: [cmd, ...args], errno: e.code })),
    );
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}

export interface DetachedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** file descriptors for stdin/stdout/stderr (and more): a log file, never a pipe to us */
  stdio: StdioOptions;
  errorCode?: 'TOOL_FAILED' | 'QEMU_FAILED';
}

export interface DetachedChild {
  pid: number;
  child: ChildProcess;
  /** rejects if the process could not be started; resolves never otherwise */
  spawnFailed: Promise<never>;
}

/**
 * Starts a process in its own group that keeps running when this engine exits (a VM, its
 * TPM). Its output goes to files the caller opened; the caller watches the pid.
 */
export async function spawnDetached(cmd: string, args: readonly string[], opts: DetachedOptions): Promise<DetachedChild> {
  const code = opts.errorCode ?? 'TOOL_FAILED';
  let child: ChildProcess;
  try {
    child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? cleanEnv(), detached: true, stdio: opts.stdio, shell: false, windowsHide: true });
  } catch (e) {
    throw new VireoError(code, `could not run ${cmd}: ${(e as Error).message}`, { argv: [cmd, ...args] });
  }
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new VireoError(code, e.code === 'ENOENT' ? `${cmd} was not found` : `could not run ${cmd}: ${e.message}`, { argv: [cmd, ...args], errno: e.code })),
    ),
  );
  spawnFailed.catch(() => {});
  child.unref();
  if (!child.pid) await spawnFailed;
  return { pid: child.pid!, child, spawnFailed };
}
