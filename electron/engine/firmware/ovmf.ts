import { copyFile, readdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { VireoError } from '../../api/errors.ts';
import { run } from '../util/proc.ts';
import { ARCH_INFO, DEFAULT_ARCH, type GuestArch } from '../arch.ts';
import { AAVMF_INSTALL_HINT, VIRT_FLASH_BYTES, aavmfFallback } from './aavmf.ts';
import type { FirmwareInfo, FlashFormat } from './info.ts';

// UEFI firmware for x86_64 guests, found the way libvirt finds it: through the JSON firmware
// descriptors QEMU installs (docs/interop/firmware.json), with a fallback to well-known OVMF
// file names for distributions that ship the files without descriptors.

// The descriptor's facts (FirmwareInfo) live in info.ts, shared with aavmf.ts.
export type { FirmwareInfo, FlashFormat } from './info.ts';

export interface DiscoverOptions {
  platform: NodeJS.Platform;
  /** the QEMU binary in use: its install prefix is searched too (Homebrew, Windows, bundled) */
  qemuBinary?: string;
  /** searched first, e.g. a bundled resources/qemu/... folder */
  extraDirs?: string[];
  /** defaults to the user's home; tests point it elsewhere */
  home?: string;
  /** XDG_CONFIG_HOME; defaults to the environment's */
  xdgConfigHome?: string;
  /** guest architecture whose firmware is wanted (descriptor targets[].architecture) */
  arch?: GuestArch;
}

export const FIRMWARE_INSTALL_HINT =
  'install UEFI firmware for QEMU: Debian/Ubuntu `sudo apt install ovmf`, Fedora `sudo dnf install edk2-ovmf`, Arch `sudo pacman -S edk2-ovmf`, macOS `brew install qemu` (ships edk2-x86_64-code.fd)';

/** Descriptor folders in QEMU's precedence order: a later folder overrides same-named files. */
export function descriptorDirs(opts: DiscoverOptions): string[] {
  const dirs: string[] = [];
  const qb = opts.qemuBinary;
  if (qb && (qb.includes('/') || qb.includes('\\'))) {
    const binDir = dirname(resolve(qb));
    // Unix prefix layout (<prefix>/bin/qemu → <prefix>/share/qemu/firmware) and the Windows
    // installer layout (<dir>\qemu.exe → <dir>\share\firmware).
    dirs.push(join(binDir, '..', 'share', 'qemu', 'firmware'), join(binDir, 'share', 'firmware'));
  }
  if (opts.platform === 'darwin') {
    dirs.push('/opt/homebrew/share/qemu/firmware', '/usr/local/share/qemu/firmware', '/opt/local/share/qemu/firmware');
  }
  if (opts.platform === 'win32') {
    const programFiles = process.env.ProgramFiles ?? 'C:\\Program Files';
    dirs.push(join(programFiles, 'qemu', 'share', 'firmware'));
  } else {
    dirs.push('/usr/share/qemu/firmware', '/etc/qemu/firmware');
    const home = opts.home ?? homedir();
    const xdg = opts.xdgConfigHome ?? process.env.XDG_CONFIG_HOME;
    dirs.push(join(xdg && xdg.length > 0 ? xdg : join(home, '.config'), 'qemu', 'firmware'));
  }
  return [...(opts.extraDirs ?? []), ...dirs];
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

// Descriptor file names are often written with an install-time prefix that differs from
// where the package landed (Windows installers, relocated Homebrew); the firmware usually
// sits next to the descriptor folder's parent.
async function locate(file: string, descriptorDir: string): Promise<string | null> {
  if (await isFile(file)) return file;
  for (const dir of [join(descriptorDir, '..'), join(descriptorDir, '..', '..')]) {
    const candidate = join(dir, basename(file.replaceAll('\\', '/')));
    if (await isFile(candidate)) return resolve(candidate);
  }
  return null;
}

const asFormat = (f: unknown): FlashFormat | null => (f === undefined || f === 'raw' ? 'raw' : f === 'qcow2' ? 'qcow2' : null);

/** Parses one descriptor; null when it is not split-flash UEFI for the arch or files are missing. */
export async function parseDescriptor(path: string, text: string, arch: GuestArch = DEFAULT_ARCH): Promise<FirmwareInfo | null> {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const types = Array.isArray(d['interface-types']) ? (d['interface-types'] as unknown[]) : [];
  if (!types.includes('uefi')) return null;
  const mapping = d.mapping as Record<string, unknown> | undefined;
  if (!mapping || mapping.device !== 'flash') return null;
  // "combined" and "stateless" flash have no separate vars template to copy per VM.
  if (mapping.mode !== undefined && mapping.mode !== 'split') return null;
  const exe = mapping.executable as { filename?: unknown; format?: unknown } | undefined;
  const tpl = mapping['nvram-template'] as { filename?: unknown; format?: unknown } | undefined;
  if (typeof exe?.filename !== 'string' || typeof tpl?.filename !== 'string') return null;
  const codeFormat = asFormat(exe.format);
  const varsFormat = asFormat(tpl.format);
  if (!codeFormat || !varsFormat) return null;
  const targets = Array.isArray(d.targets) ? (d.targets as { architecture?: unknown; machines?: unknown }[]) : [];
  const fitting = targets.filter((t) => t.architecture === ARCH_INFO[arch].firmwareArch);
  if (fitting.length === 0) return null;
  const machines = fitting.flatMap((t) => (Array.isArray(t.machines) ? t.machines.filter((m): m is string => typeof m === 'string') : []));
  const features = Array.isArray(d.features) ? (d.features as unknown[]).filter((f): f is string => typeof f === 'string') : [];
  const dir = dirname(path);
  const code = await locate(exe.filename, dir);
  const varsTemplate = await locate(tpl.filename, dir);
  if (!code || !varsTemplate) return null;
  return {
    descriptor: path,
    description: typeof d.description === 'string' ? d.description : basename(path),
    code,
    codeFormat,
    varsTemplate,
    varsFormat,
    machines,
    features,
    secureBoot: features.includes('secure-boot'),
    enrolledKeys: features.includes('enrolled-keys'),
    requiresSmm: features.includes('requires-smm'),
  };
}

// Distribution file names, used only when no descriptor exists at all. Secure Boot code
// builds need SMM; ".ms" vars carry Microsoft's keys enrolled.
const FALLBACK_DIRS = ['/usr/share/OVMF', '/usr/share/ovmf', '/usr/share/edk2/ovmf', '/usr/share/edk2/x64', '/usr/share/edk2-ovmf/x64', '/usr/share/edk2-ovmf'];
const FALLBACK_PAIRS: { code: string; vars: string; sb: boolean; keys: boolean }[] = [
  { code: 'OVMF_CODE_4M.ms.fd', vars: 'OVMF_VARS_4M.ms.fd', sb: true, keys: true },
  { code: 'OVMF_CODE_4M.secboot.fd', vars: 'OVMF_VARS_4M.ms.fd', sb: true, keys: true },
  { code: 'OVMF_CODE.secboot.4m.fd', vars: 'OVMF_VARS.4m.fd', sb: true, keys: false },
  { code: 'OVMF_CODE.secboot.fd', vars: 'OVMF_VARS.secboot.fd', sb: true, keys: true },
  { code: 'OVMF_CODE_4M.secboot.fd', vars: 'OVMF_VARS_4M.fd', sb: true, keys: false },
  { code: 'OVMF_CODE.secboot.fd', vars: 'OVMF_VARS.fd', sb: true, keys: false },
  { code: 'OVMF_CODE_4M.fd', vars: 'OVMF_VARS_4M.fd', sb: false, keys: false },
  { code: 'OVMF_CODE.4m.fd', vars: 'OVMF_VARS.4m.fd', sb: false, keys: false },
  { code: 'OVMF_CODE.fd', vars: 'OVMF_VARS.fd', sb: false, keys: false },
];

async function fallbackFirmware(extra: string[]): Promise<FirmwareInfo[]> {
  const found: FirmwareInfo[] = [];
  for (const dir of [...extra, ...FALLBACK_DIRS]) {
    for (const pair of FALLBACK_PAIRS) {
      const code = join(dir, pair.code);
      const vars = join(dir, pair.vars);
      if (!(await isFile(code)) || !(await isFile(vars))) continue;
      const features = pair.sb ? ['secure-boot', 'requires-smm', ...(pair.keys ? ['enrolled-keys'] : [])] : [];
      found.push({
        descriptor: null,
        description: `${pair.code} (found by file name)`,
        code,
        codeFormat: 'raw',
        varsTemplate: vars,
        varsFormat: 'raw',
        machines: pair.sb ? ['pc-q35-*'] : ['pc-q35-*', 'pc-i440fx-*'],
        features,
        secureBoot: pair.sb,
        enrolledKeys: pair.keys,
        requiresSmm: pair.sb,
      });
    }
  }
  return found;
}

/**
 * All usable UEFI firmware for the guest arch (x86_64 by default) on this host, in QEMU's descriptor priority order
 * (file name order across folders, later folders overriding same-named descriptors).
 */
export async function discoverFirmware(opts: DiscoverOptions): Promise<FirmwareInfo[]> {
  const byName = new Map<string, string>();
  for (const dir of descriptorDirs(opts)) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) if (n.endsWith('.json')) byName.set(n, join(dir, n));
  }
  const list: FirmwareInfo[] = [];
  for (const name of [...byName.keys()].sort()) {
    const path = byName.get(name)!;
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text === null) continue;
    const fw = await parseDescriptor(path, text, opts.arch);
    if (fw) list.push(fw);
  }
  if (list.length > 0) return list;
  // The fallback globs are the OVMF (x86_64) file names distributions ship without descriptors.
  return (opts.arch ?? DEFAULT_ARCH) === 'x86_64' ? fallbackFirmware(opts.extraDirs ?? []) : aavmfFallback(opts.extraDirs ?? []);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

export type FirmwareMachine = 'q35' | 'pc' | 'virt';

/** Whether a descriptor's machine globs cover Vireo's machine alias ("q35", "pc" or aarch64's "virt"). */
export function supportsMachine(fw: Pick<FirmwareInfo, 'machines'>, machine: FirmwareMachine): boolean {
  // Descriptors list versioned types; any version stands in for the alias QEMU resolves.
  const probe = machine === 'q35' ? 'pc-q35-99.0' : machine === 'virt' ? 'virt-99.0' : 'pc-i440fx-99.0';
  return fw.machines.some((g) => g === machine || globToRegExp(g).test(probe));
}

export interface ChooseOptions {
  machine: FirmwareMachine;
  secureBoot: boolean;
}

/**
 * The best firmware for a VM. Secure Boot wants a secure-boot + SMM build, preferably with
 * Microsoft keys enrolled (without keys, Secure Boot is never enforced). Plain UEFI prefers
 * a build without SMM, which boots faster under TCG.
 */
export function chooseFirmware(list: FirmwareInfo[], opts: ChooseOptions): FirmwareInfo {
  const forMachine = list.filter((f) => supportsMachine(f, opts.machine) && (opts.machine !== 'pc' || !f.requiresSmm));
  // aarch64 firmware enforces Secure Boot without SMM (there is none on virt).
  const virt = opts.machine === 'virt';
  let ranked: FirmwareInfo[];
  if (opts.secureBoot) {
    if (opts.machine === 'pc') {
      throw new VireoError('UNSUPPORTED', 'Secure Boot needs the q35 machine type: switch the machine to q35 or turn Secure Boot off', { machine: opts.machine });
    }
    const sb = forMachine.filter((f) => f.secureBoot && (virt || f.requiresSmm));
    ranked = [...sb.filter((f) => f.enrolledKeys), ...sb.filter((f) => !f.enrolledKeys)];
  } else {
    ranked = [
      ...forMachine.filter((f) => !f.secureBoot && !f.requiresSmm),
      ...forMachine.filter((f) => !f.enrolledKeys && (f.secureBoot || f.requiresSmm)),
    ];
  }
  const best = ranked[0];
  if (!best) {
    const what = opts.secureBoot ? 'UEFI firmware with Secure Boot' : 'UEFI firmware';
    throw new VireoError(
      'UNSUPPORTED',
      `no ${what} for the ${opts.machine} machine was found (${list.length} firmware descriptor(s) checked): ${virt ? AAVMF_INSTALL_HINT : FIRMWARE_INSTALL_HINT}`,
      { machine: opts.machine, secureBoot: opts.secureBoot, candidates: list.map((f) => f.descriptor ?? f.code) },
    );
  }
  return best;
}

export interface Nvram {
  path: string;
  format: FlashFormat;
}

/**
 * Gives a VM its own copy of the firmware's variable store. qcow2 so that live snapshots
 * (which need every writable node to support snapshots) include the UEFI variables; a raw
 * copy when qemu-img cannot convert.
 */
export async function createNvram(fw: Pick<FirmwareInfo, 'varsTemplate' | 'varsFormat'>, destDir: string, qemuImg = 'qemu-img', opts: { arch?: GuestArch } = {}): Promise<Nvram> {
  // aarch64's virt machine takes only 64 MiB flash banks: a smaller template is grown to that.
  const padTo = opts.arch === 'aarch64' ? VIRT_FLASH_BYTES : undefined;
  for (const existing of ['nvram.qcow2', 'nvram.fd']) {
    if (await isFile(join(destDir, existing))) {
      throw new VireoError('ALREADY_EXISTS', `the VM already has a UEFI variable store ${join(destDir, existing)}: delete it first to reset the UEFI settings`, { path: join(destDir, existing) });
    }
  }
  const qcow2 = join(destDir, 'nvram.qcow2');
  const tmpQcow2 = join(destDir, '.nvram.qcow2.tmp');
  try {
    await run(qemuImg, ['convert', '-f', fw.varsFormat, '-O', 'qcow2', fw.varsTemplate, tmpQcow2], { timeoutMs: 30_000 });
    if (padTo !== undefined && (await stat(fw.varsTemplate)).size < padTo) {
      await run(qemuImg, ['resize', '-f', 'qcow2', tmpQcow2, String(padTo)], { timeoutMs: 30_000 });
    }
    await rename(tmpQcow2, qcow2);
    return { path: qcow2, format: 'qcow2' };
  } catch {
    await rm(tmpQcow2, { force: true });
  }
  const dest = join(destDir, fw.varsFormat === 'qcow2' ? 'nvram.qcow2' : 'nvram.fd');
  const tmp = `${dest}.tmp`;
  try {
    await copyFile(fw.varsTemplate, tmp);
    if (padTo !== undefined && fw.varsFormat === 'raw' && (await stat(tmp)).size < padTo) await truncate(tmp, padTo);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new VireoError('IO_ERROR', `could not copy the UEFI variable store ${fw.varsTemplate} to ${dest}: ${(e as Error).message}`, { from: fw.varsTemplate, to: dest });
  }
  return { path: dest, format: fw.varsFormat };
}
