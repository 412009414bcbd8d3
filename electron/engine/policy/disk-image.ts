import { dirname, isAbsolute, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { detectFormat } from '../disk/format.ts';
import { run, tail } from '../util/proc.ts';
import { openRegular } from './files.ts';
import { refused } from './refused.ts';

// Is this file a disk image a client of `vireo serve` may hand to qemu-img or a guest? The
// trap is raw: to qemu-img every file is a valid raw image (a text file resized with --shrink
// is cut to 512 bytes; /etc/shadow "converted" lands in a guest). So the bytes decide: a
// known magic number is an image; anything else counts as raw only when its name says it is a
// disk image. An image may name other files (a backing chain, VMDK extents, a qcow2 external
// data file): each of those must be inside the allowed folders too, or the guest reads them.

/** Names that say "raw disk image"; a raw file without one is refused for web callers. */
export const RAW_DISK_NAME = /\.(img|raw)$/i;
const MAX_CHAIN = 16;
const INFO_TIMEOUT_MS = 20_000;

export interface DiskImageCheck {
  field: string;
  qemuImg: string;
  /** checks that a referenced file may be used; returns its real path */
  allowed: (ref: string) => Promise<string>;
}

/** The image's format by its bytes, or a refusal saying why it is not a usable disk image. */
export async function checkDiskImage(path: string, c: DiskImageCheck): Promise<string> {
  const format = await detectFormat(path);
  if (format === null) throw new VireoError('INVALID_ARGUMENT', `${c.field}: ${path} is empty, not a disk image`, { field: c.field, path });
  if (format === 'raw') {
    if (!RAW_DISK_NAME.test(path)) throw notRawDisk(c.field, path);
    return format;
  }
  await checkReferences(path, format, c);
  return format;
}

async function checkReferences(top: string, topFormat: string, c: DiskImageCheck): Promise<void> {
  let file = top;
  let format = topFormat;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (format === 'vmdk' && (await isVmdkDescriptor(file))) {
      // A text descriptor is a list of other files by path; opening it opens them.
      throw refused(`${c.field}: ${file} is a VMDK descriptor, which names its data files by path: import it from the desktop app or the CLI`, { field: c.field, path: file });
    }
    const j = await info(c.qemuImg, file, format, c.field);
    const data = (j['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
    const others: string[] = [];
    if (typeof data['data-file'] === 'string') others.push(data['data-file']);
    if (Array.isArray(data.extents)) {
      for (const e of data.extents as Array<{ filename?: unknown }>) if (typeof e.filename === 'string' && e.filename !== file) others.push(e.filename);
    }
    for (const o of others) {
      const real = await c.allowed(isAbsolute(o) ? o : join(dirname(file), o));
      await closeRegular(real);
      // Raw data the guest sees: the same rule as a raw disk (a data file named ~/.ssh/id_rsa
      // inside the home folder is still not a disk).
      if (!RAW_DISK_NAME.test(real) && !(await detectFormat(real).then((f) => f !== null && f !== 'raw'))) throw notRawDisk(c.field, real, `a file ${file} refers to`);
    }
    const backing = typeof j['full-backing-filename'] === 'string' ? j['full-backing-filename'] : typeof j['backing-filename'] === 'string' ? join(dirname(file), j['backing-filename']) : null;
    if (!backing) return;
    file = await c.allowed(backing);
    await closeRegular(file);
    const next = await detectFormat(file);
    if (!next) throw new VireoError('INVALID_ARGUMENT', `${c.field}: the backing file ${file} is empty`, { field: c.field, path: file });
    if (next === 'raw') {
      if (!RAW_DISK_NAME.test(file)) throw notRawDisk(c.field, file, `the backing file of ${top}`);
      return;
    }
    format = next;
  }
  throw new VireoError('INVALID_ARGUMENT', `${c.field}: ${top} has a backing chain deeper than ${MAX_CHAIN} images`, { field: c.field, path: top });
}

function notRawDisk(field: string, path: string, role?: string) {
  return refused(
    `${field}: ${path}${role ? ` (${role})` : ''} has no disk-image format (no qcow2, VMDK, VDI, VHD(X) or QED header) and its name does not end in .img or .raw, so it is not treated as a raw disk: rename it if it really is one`,
    { field, path },
  );
}

async function closeRegular(p: string): Promise<void> {
  const { fh } = await openRegular(p, { what: 'disk image' });
  await fh.close();
}

async function isVmdkDescriptor(file: string): Promise<boolean> {
  const { fh } = await openRegular(file);
  try {
    const buf = Buffer.alloc(21);
    const { bytesRead } = await fh.read(buf, 0, 21, 0);
    return buf.subarray(0, bytesRead).toString('latin1').startsWith('# Disk DescriptorFile');
  } finally {
    await fh.close();
  }
}

/** `qemu-img info` without the chain (-U: a running VM's disk can be looked at); -f never lets it probe. */
async function info(binary: string, file: string, format: string, field: string): Promise<Record<string, unknown>> {
  let stdout: string;
  try {
    ({ stdout } = await run(binary, ['info', '--output=json', '-U', '-f', format, file], { timeoutMs: INFO_TIMEOUT_MS }));
  } catch (e) {
    const d = (e instanceof VireoError ? e.details : undefined) as { stderr?: string } | undefined;
    const why = tail(d?.stderr ?? (e as Error).message, 1).replace(/^qemu-img: /, '');
    throw new VireoError(e instanceof VireoError && e.code === 'TIMEOUT' ? 'TIMEOUT' : 'INVALID_ARGUMENT', `${field}: ${file} is not a usable ${format} image: ${why}`, { field, path: file });
  }
  try {
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    throw new VireoError('TOOL_FAILED', `${binary} info printed no JSON for ${file}: update qemu-utils`, { field, path: file });
  }
}
