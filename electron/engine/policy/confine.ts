import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Caller, WebCaller } from '../../api/define.ts';
import { openRegular } from './files.ts';
import { RAW_DISK_NAME, checkDiskImage } from './disk-image.ts';
import { refused } from './refused.ts';
import { checkForwardsCaller, type ConfigWithForwards } from '../net/nat/policy.ts';

// Where a client of `vireo serve` may reach (the threat model is in README, "Security model").
// A local caller (desktop, CLI) may name any path its account can; it only gets the path made
// absolute. A web caller gets:
// - absolute paths only, no `..` segment (nothing to resolve against a server's cwd);
// - the real path (symbolic links followed) inside the library or one of its media roots,
//   and that real path is what the engine then uses, so a link cannot be swapped in later;
// - regular files only (no FIFO, socket, device);
// - for disk images, a file that is one by its bytes (raw only with a disk-image name), whose
//   every referenced file (backing chain, VMDK extents, qcow2 data file) is inside a root too.

/** The confinement of `vireo serve`: media folders default to the user's home. */
export function webCaller(opts: { media?: readonly string[]; allowExtraArgs?: boolean } = {}): WebCaller {
  const media = opts.media?.length ? opts.media : [homedir()];
  return Object.freeze({ kind: 'web' as const, roots: Object.freeze(media.map((m) => resolve(m))), allowExtraArgs: !!opts.allowExtraArgs });
}

/** The parts of vm.json the policy looks at (structural, so the schema's version does not matter). */
export interface VmConfigLike extends ConfigWithForwards {
  advanced: { extraArgs: readonly string[] };
  disks: ReadonlyArray<{ id: string; file: string; format: string }>;
  cdrom: { iso: string | null };
  /** shared folders (engine/shares/): the guest may read and write them */
  shares?: ReadonlyArray<{ path: string }>;
}

export const isWeb = (c: Caller | undefined): c is WebCaller => c?.kind === 'web';

/** `p` is `root` or below it (both real, absolute paths). */
export const within = (root: string, p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

export class Confinement {
  /** `library`: the VIREO home, always a root; `qemuImg`: the binary, for disk-image checks. */
  constructor(
    private readonly library: string,
    private readonly qemuImg: () => Promise<string>,
  ) {}

  /** The real folders a web caller may use, library first; roots that do not exist are left out. */
  async roots(caller: WebCaller): Promise<string[]> {
    const out: string[] = [];
    for (const r of [this.library, ...caller.roots]) {
      const real = await realpath(r).catch(() => null);
      if (real && !out.includes(real)) out.push(real);
    }
    return out;
  }

  /**
   * The path as given, checked for shape: web callers name absolute paths without `..`, and
   * inside a root as written, before anything outside is looked at (or NOT_FOUND versus
   * UNAUTHORIZED would tell them which host files exist).
   */
  private async shape(caller: Caller, p: string, field: string): Promise<string> {
    if (!isWeb(caller)) return resolve(p);
    if (p.includes('\0')) throw new VireoError('INVALID_ARGUMENT', `${field}: the path contains a NUL character`, { field });
    if (!isAbsolute(p)) throw refused(`${field}: "${p}" is not an absolute path: a client of vireo serve names files by their full path`, { field, path: p });
    if (p.split(/[\\/]/).includes('..')) throw refused(`${field}: "${p}" contains "..": name the file by its path inside the allowed folders`, { field, path: p });
    const shaped = resolve(p);
    const real = await this.roots(caller);
    const named = [this.library, ...caller.roots].map((r) => resolve(r));
    if (![...real, ...named].some((r) => within(r, shaped))) await this.assertInside(caller, shaped, shaped, field);
    return shaped;
  }

  /** Refuses a real path outside every root, saying which roots there are. */
  async assertInside(caller: WebCaller, real: string, shown: string, field: string): Promise<void> {
    const roots = await this.roots(caller);
    if (roots.some((r) => within(r, real))) return;
    throw refused(
      `${field}: ${shown}${real !== shown ? ` (really ${real})` : ''} is outside the folders this server may use (${roots.join(', ')}): move it into one of them, or start \`vireo serve --media <folder>\``,
      { field, path: shown, roots },
    );
  }

  private async real(p: string): Promise<string> {
    try {
      return await realpath(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new VireoError('NOT_FOUND', `${p} does not exist: check the path`, { path: p });
      throw new VireoError('IO_ERROR', `cannot resolve ${p}: ${(e as Error).message}`, { path: p, errno: code });
    }
  }

  /**
   * An existing file a client wants read (an ISO, an image to inspect or import). Local: made
   * absolute, the reader checks the rest. Web: its real path, inside a root, a regular file.
   */
  async existingFile(caller: Caller, p: string, field: string, what = 'file'): Promise<string> {
    const shaped = await this.shape(caller, p, field);
    if (!isWeb(caller)) return shaped;
    const real = await this.real(shaped);
    await this.assertInside(caller, real, shaped, field);
    const { fh } = await openRegular(real, { what });
    await fh.close();
    return real;
  }

  /** A folder to list. */
  async folder(caller: Caller, p: string, field: string): Promise<string> {
    const shaped = await this.shape(caller, p, field);
    if (!isWeb(caller)) return shaped;
    const real = await this.real(shaped);
    await this.assertInside(caller, real, shaped, field);
    return real;
  }

  /**
   * A file to create (a new disk image, a conversion's output): its folder's real path must be
   * inside a root; the writer refuses an existing file (Vireo never overwrites a disk).
   */
  async newFile(caller: Caller, p: string, field: string): Promise<string> {
    const shaped = await this.shape(caller, p, field);
    if (!isWeb(caller)) return shaped;
    const parent = await this.real(dirname(shaped));
    const target = join(parent, basename(shaped));
    await this.assertInside(caller, target, shaped, field);
    return target;
  }

  /** A new disk image: `newFile`, and for web callers a name that says what it is (.qcow2, or .img/.raw for raw). */
  async newDiskFile(caller: Caller, p: string, field: string, format: 'qcow2' | 'raw'): Promise<string> {
    const target = await this.newFile(caller, p, field);
    if (isWeb(caller) && !(format === 'qcow2' ? /\.qcow2$/i : RAW_DISK_NAME).test(target)) {
      throw refused(`${field}: a new ${format} disk's name must end in ${format === 'qcow2' ? '.qcow2' : '.img or .raw'} (got ${basename(target)})`, { field, path: p });
    }
    return target;
  }

  /**
   * An existing disk image for `disks.*`, `importDisk` or a VM's disk list. Web: an existing
   * file inside a root that is a disk image by its bytes, whose references stay inside roots.
   * Returns the real path and the format its bytes say.
   */
  async diskImage(caller: Caller, p: string, field: string): Promise<{ path: string; format: string | null }> {
    const path = await this.existingFile(caller, p, field, 'disk image');
    if (!isWeb(caller)) return { path, format: null };
    const format = await checkDiskImage(path, {
      field,
      qemuImg: await this.qemuImg(),
      allowed: async (ref) => {
        const what = `${field} (a file ${basename(path)} refers to)`;
        const real = await this.real(await this.shape(caller, ref, what));
        await this.assertInside(caller, real, ref, what);
        return real;
      },
    });
    return { path, format };
  }

  /** A settings change (vms.update) as a whole: extra arguments, disks, the CD-ROM's ISO. */
  async vmConfig(caller: Caller, vmDir: string, before: VmConfigLike, after: VmConfigLike): Promise<void> {
    if (!isWeb(caller)) return;
    this.extraArgs(caller, before.advanced.extraArgs, after.advanced.extraArgs);
    await this.vmDisks(caller, vmDir, before.disks, after.disks);
    if (after.cdrom.iso && after.cdrom.iso !== before.cdrom.iso) {
      const real = await this.existingFile(caller, after.cdrom.iso, 'cdrom.iso', 'ISO');
      // The stored path must be the checked one, not a link that could be re-pointed later.
      if (real !== after.cdrom.iso) throw refused(`cdrom.iso: ${after.cdrom.iso} is a link to ${real}: give the real path`, { field: 'cdrom.iso', path: after.cdrom.iso, real });
    }
    await this.vmShares(caller, before.shares ?? [], after.shares ?? []);
    checkForwardsCaller(caller, before, after);
  }

  /** A shared folder is host storage the guest reads and writes: a web caller's new one is a real folder inside a root. */
  async vmShares(caller: Caller, before: ReadonlyArray<{ path: string }>, after: ReadonlyArray<{ path: string }>): Promise<void> {
    if (!isWeb(caller)) return;
    for (const [i, s] of after.entries()) {
      if (before.some((b) => b.path === s.path)) continue;
      const field = `shares.${i}.path`;
      const real = await this.folder(caller, s.path, field);
      if (real !== s.path) throw refused(`${field}: ${s.path} is a link to ${real}: give the real path`, { field, path: s.path, real });
      // The library holds every VM's vm.json and disks: a guest writing there could give
      // another VM extra QEMU arguments, i.e. reach the host. So not the library, nor above it.
      const lib = await realpath(this.library).catch(() => resolve(this.library));
      if (within(real, lib) || within(lib, real)) {
        throw refused(`${field}: ${s.path} ${within(lib, real) ? 'is inside' : 'contains'} the Vireo library (${lib}), whose VM settings and disks a guest must not write: share a folder outside it`, { field, path: s.path });
      }
    }
  }

  /** `advanced.extraArgs` reach QEMU's argv unfiltered: only local callers (or serve --allow-extra-args) change them. */
  extraArgs(caller: Caller, before: readonly string[], after: readonly string[]): void {
    if (!isWeb(caller) || caller.allowExtraArgs) return;
    if (before.length === after.length && before.every((a, i) => a === after[i])) return;
    throw refused(
      'advanced.extraArgs: extra QEMU arguments can reach any host file, so a client of vireo serve may not change them: set them in the desktop app (Settings → Advanced), or start `vireo serve --allow-extra-args`',
      { field: 'advanced.extraArgs' },
    );
  }

  /**
   * A VM's disk list after a change. Web: every disk whose file or format changed lives inside
   * the VM's folder (relative path, no `..`) or is an absolute path inside a root, and either
   * way is a disk image of the format the config declares.
   */
  async vmDisks(
    caller: Caller,
    vmDir: string,
    before: ReadonlyArray<{ id: string; file: string; format: string }>,
    after: ReadonlyArray<{ id: string; file: string; format: string }>,
  ): Promise<void> {
    if (!isWeb(caller)) return;
    for (const [i, d] of after.entries()) {
      const old = before.find((b) => b.id === d.id);
      if (old && old.file === d.file && old.format === d.format) continue;
      const field = `disks.${i}.file`;
      let full: string;
      if (isAbsolute(d.file)) full = d.file;
      else {
        if (d.file.split(/[\\/]/).includes('..')) throw refused(`${field}: "${d.file}" leaves the VM's folder: a disk is a file inside it, or an absolute path inside the allowed folders`, { field, path: d.file });
        full = join(vmDir, d.file);
        const real = await this.real(full);
        const realDir = await this.real(vmDir);
        if (!within(realDir, real)) throw refused(`${field}: "${d.file}" leads out of the VM's folder (to ${real})`, { field, path: d.file });
      }
      const { format } = await this.diskImage(caller, full, field);
      if (format !== d.format) {
        throw new VireoError('INVALID_ARGUMENT', `${field}: ${d.file} is a ${format} image, not ${d.format}: set format to ${format}`, { field, path: d.file, format });
      }
    }
  }
}
