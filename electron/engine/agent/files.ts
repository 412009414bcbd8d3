import { VireoError } from '../../api/errors.ts';
import type { AgentCall } from './exec.ts';

// Files in and out of the guest through guest-file-open/write/read/close. The agent speaks
// base64 in JSON lines, so data moves in chunks of 48 KiB (64 KiB of base64 per line): small
// enough for the agent's line parser, large enough that a 5 MiB file takes ~100 calls. The
// guest handle is closed whatever happens, so a failed copy leaves no open file in the agent.

export const CHUNK_BYTES = 48 * 1024;
/** a copy through the agent is for configuration files and tools, not disk images */
export const MAX_COPY_BYTES = 256 * 1024 * 1024;

export interface WriteOptions {
  onProgress?: (bytes: number) => void;
  /** refuse beyond this many bytes (default MAX_COPY_BYTES) */
  maxBytes?: number;
  /** 'w' truncates, 'a' appends (uploads in several calls) */
  mode?: 'w' | 'a';
  signal?: AbortSignal;
}

export interface ReadOptions {
  onChunk: (data: Buffer) => void | Promise<void>;
  maxBytes?: number;
  signal?: AbortSignal;
}

function tooBig(guestPath: string, max: number): VireoError {
  return new VireoError('INVALID_ARGUMENT', `${guestPath} is larger than ${Math.round(max / 1024 ** 2)} MiB, the most Vireo copies through the guest agent: use a shared folder or the network for big files`, { guestPath, maxBytes: max });
}

async function withHandle<T>(call: AgentCall, guestPath: string, mode: string, fn: (handle: number) => Promise<T>): Promise<T> {
  const handle = await call<number>('guest-file-open', { path: guestPath, mode });
  try {
    return await fn(handle);
  } finally {
    await call('guest-file-close', { handle }).catch(() => {});
  }
}

export async function writeGuestFile(call: AgentCall, guestPath: string, chunks: AsyncIterable<Buffer> | Iterable<Buffer>, opts: WriteOptions = {}): Promise<number> {
  const max = opts.maxBytes ?? MAX_COPY_BYTES;
  return withHandle(call, guestPath, opts.mode ?? 'w', async (handle) => {
    let total = 0;
    for await (const piece of chunks) {
      for (let off = 0; off < piece.length; off += CHUNK_BYTES) {
        if (opts.signal?.aborted) throw new VireoError('CANCELLED', `copy to ${guestPath} cancelled after ${total} bytes`);
        const part = piece.subarray(off, off + CHUNK_BYTES);
        if (total + part.length > max) throw tooBig(guestPath, max);
        const r = await call<{ count: number }>('guest-file-write', { handle, 'buf-b64': part.toString('base64') });
        if (r.count !== part.length) throw new VireoError('IO_ERROR', `the guest wrote ${r.count} of ${part.length} bytes to ${guestPath}: is its disk full?`, { guestPath });
        total += part.length;
        opts.onProgress?.(total);
      }
    }
    await call('guest-file-flush', { handle }).catch(() => {});
    return total;
  });
}

export async function readGuestFile(call: AgentCall, guestPath: string, opts: ReadOptions): Promise<number> {
  const max = opts.maxBytes ?? MAX_COPY_BYTES;
  return withHandle(call, guestPath, 'r', async (handle) => {
    let total = 0;
    for (;;) {
      if (opts.signal?.aborted) throw new VireoError('CANCELLED', `copy from ${guestPath} cancelled after ${total} bytes`);
      const r = await call<{ count: number; 'buf-b64': string; eof: boolean }>('guest-file-read', { handle, count: CHUNK_BYTES });
      if (r.count > 0) {
        if (total + r.count > max) throw tooBig(guestPath, max);
        await opts.onChunk(Buffer.from(r['buf-b64'], 'base64'));
        total += r.count;
      }
      if (r.eof || r.count === 0) return total;
    }
  });
}
