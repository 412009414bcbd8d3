import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { ApiClient, Args, MethodName, Result } from '../../api/contract.ts';
import { connectOwner, isRetryable, type SocketClient } from '../../api/socket-client.ts';
import { createEngine, type Engine, type EngineOptions } from '../index.ts';
import { ensurePrivateDir, ownerSocketPath, resolveHome, runtimeRoot } from '../paths.ts';
import { busyError, type OwnerInfo } from './lock.ts';

// Open a library the way every process but the owner should: become its owner when nobody
// owns it, else talk to the owner over its socket. Between the two there is a short window
// (an owner still loading, or just leaving) in which neither works: we retry until one does.

export type OpenedLibrary =
  | { kind: 'owner'; engine: Engine; client: ApiClient; close(): Promise<void> }
  | { kind: 'client'; client: SocketClient; owner: Pick<OwnerInfo, 'pid' | 'role'>; close(): Promise<void> };

export interface OpenLibraryOptions extends EngineOptions {
  /**
   * 'any': become a client of a running owner (the CLI). 'own': this process must be the
   * owner (a server that hands out display sessions of its own): a one-shot CLI owner is waited
   * for, a long-lived one (the app, a serve) is refused with BUSY.
   */
  mode?: 'any' | 'own';
  /** how long to wait for the library to become ownable or reachable */
  waitMs?: number;
}

export async function openLibrary(opts: OpenLibraryOptions = {}): Promise<OpenedLibrary> {
  const { mode = 'any', waitMs = 120_000, ...engineOpts } = opts;
  const home = resolveHome(engineOpts.home);
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    let lastBusy: VireoError;
    try {
      const engine = await createEngine({ ...engineOpts, home });
      return { kind: 'owner', engine, client: engine.client, close: () => engine.dispose() };
    } catch (e) {
      if (!(e instanceof VireoError) || e.code !== 'BUSY') throw e;
      lastBusy = e;
    }
    const owner = lastBusy.details as { pid?: number; role?: OwnerInfo['role']; socket?: string } | undefined;
    if (mode === 'own' && owner?.role && owner.role !== 'cli') throw lastBusy;
    if (mode === 'any') {
      const client = await connectFirst(socketsToTry(home, owner?.socket));
      if (client) {
        const who = { pid: client.owner.pid, role: client.owner.role as OwnerInfo['role'] };
        return {
          kind: 'client',
          client,
          owner: who,
          close: async () => {
            client.close();
            await client.closed;
          },
        };
      }
    }
    if (Date.now() > deadline) {
      const why = mode === 'own' ? 'still held it' : 'did not answer';
      throw owner?.pid ? busyError(home, { pid: owner.pid, role: owner.role ?? 'engine' }, ` and ${why} after ${Math.round(waitMs / 1000)} s`) : lastBusy;
    }
    // Short first waits (an owner finishing its start-up), then no busier than 4 times a second.
    await new Promise((r) => setTimeout(r, Math.min(250, 20 * (attempt + 1))));
  }
}

/**
 * Our own path to the owner's socket first; then the one the lock holder names (the same
 * library reached through another path, e.g. a symlink), only if it sits in a private folder
 * of ours: the lock's answer is not trusted to send us anywhere else.
 */
function socketsToTry(home: string, reported: string | undefined): string[] {
  const ours = ownerSocketPath(ensurePrivateDir(runtimeRoot(home)), home);
  if (!reported || reported === ours || process.platform === 'win32') return [ours];
  try {
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    const dir = statSync(dirname(reported));
    const sock = statSync(reported);
    if (dir.uid === uid && (dir.mode & 0o077) === 0 && sock.uid === uid) return [ours, reported];
  } catch {
    /* not there (yet) */
  }
  return [ours];
}

async function connectFirst(paths: string[]): Promise<SocketClient | null> {
  for (const p of paths) {
    const c = await connectOwner(p, { timeoutMs: 5000 }).catch(() => null);
    if (c) return c;
  }
  return null;
}

/**
 * Own the library or fail: for the app and `vireo serve`, whose windows and display sessions
 * come from their own engine. A one-shot CLI owner is waited for; a long-lived owner (the app,
 * a serve) is refused with BUSY, naming its pid.
 */
export async function ownLibrary(opts: Omit<OpenLibraryOptions, 'mode'> = {}): Promise<Engine> {
  const opened = await openLibrary({ ...opts, mode: 'own' });
  if (opened.kind !== 'owner') throw new VireoError('INTERNAL', 'expected to own the library');
  return opened.engine;
}

/**
 * A library opened for a run of calls (one CLI command): opened on the first call; a call the
 * owner never ran (it was leaving) is sent again to whoever owns the library next.
 */
export class LibrarySession {
  private opened: OpenedLibrary | null = null;
  constructor(private readonly opts: OpenLibraryOptions = {}) {}

  async call<M extends MethodName>(method: M, args: Args<M>): Promise<Result<M>> {
    for (let attempt = 0; ; attempt++) {
      this.opened ??= await openLibrary(this.opts);
      try {
        return await this.opened.client.call(method, args);
      } catch (e) {
        if (!isRetryable(e) || attempt >= 20) throw e;
        await this.close();
      }
    }
  }

  get isOpen(): boolean {
    return this.opened !== null;
  }

  async close(): Promise<void> {
    const o = this.opened;
    this.opened = null;
    await o?.close();
  }
}
