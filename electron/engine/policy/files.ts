import { open, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { VireoError } from '../../api/errors.ts';

// The one way a path a client named is opened for reading. open(2) of a FIFO waits for a
// writer; in Node that wait occupies a libuv pool thread for good, and four such calls hang
// the whole engine. O_NONBLOCK makes open return at once for FIFOs (it changes nothing for
// regular files), then fstat on the open descriptor decides what the path really is: no
// window between the check and the read for the file to be swapped.

/** What reads accept: regular files, and block devices where a physical disk or CD drive makes sense. */
export interface OpenOptions {
  allowBlockDevice?: boolean;
  /** named in messages: "ISO", "disk image" */
  what?: string;
}

export interface RegularFile {
  fh: FileHandle;
  size: number;
  stats: Stats;
}

export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export function notRegular(path: string, st: Stats, what = 'file'): VireoError {
  return new VireoError('INVALID_ARGUMENT', `${path} is ${kindOf(st)}: choose a regular ${what} file`, { path, kind: kindOf(st) });
}

export function openError(path: string, e: unknown): VireoError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new VireoError('NOT_FOUND', `${path} does not exist: check the path`, { path, errno: code });
  if (code === 'EACCES' || code === 'EPERM') return new VireoError('IO_ERROR', `${path} cannot be read (permission denied): make the file readable for this user`, { path, errno: code });
  if (code === 'ELOOP') return new VireoError('INVALID_ARGUMENT', `${path} is a loop of symbolic links: check the path`, { path, errno: code });
  return new VireoError('IO_ERROR', `opening ${path} failed: ${(e as Error)?.message ?? String(e)}`, { path, errno: code });
}

/** Open for reading, or a typed error saying why not; the caller closes `fh`. */
export async function openRegular(path: string, opts: OpenOptions = {}): Promise<RegularFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw openError(path, e);
  }
  try {
    const stats = await fh.stat();
    if (!stats.isFile() && !(opts.allowBlockDevice && stats.isBlockDevice())) throw notRegular(path, stats, opts.what);
    return { fh, size: stats.size, stats };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** At most `max` bytes from the start of a regular file (fewer when it is shorter). */
export async function readHead(path: string, max: number, opts: OpenOptions = {}): Promise<Buffer> {
  const { fh } = await openRegular(path, opts);
  try {
    const buf = Buffer.alloc(max);
    let got = 0;
    while (got < max) {
      const { bytesRead } = await fh.read(buf, got, max - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
