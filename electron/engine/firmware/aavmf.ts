import { copyFile, mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { FirmwareInfo } from './info.ts';

// UEFI for aarch64 guests (AAVMF, edk2's ArmVirtQemu). Found through the same QEMU firmware
// descriptors as OVMF (ovmf.ts); what is aarch64's own lives here: the file names distributions
// ship without descriptors, and the virt machine's rule that each pflash bank is exactly 64 MiB.

/** virt maps two 64 MiB flash banks; QEMU refuses a pflash image of any other size. */
export const VIRT_FLASH_BYTES = 64 * 1024 * 1024;

export const AAVMF_INSTALL_HINT =
  'install UEFI firmware for aarch64 guests: Debian/Ubuntu `sudo apt install qemu-efi-aarch64`, Fedora `sudo dnf install edk2-aarch64`, Arch `sudo pacman -S edk2-aarch64`, macOS `brew install qemu` (ships edk2-aarch64-code.fd)';

/** Debian/Ubuntu (AAVMF), Fedora (edk2/aarch64), Homebrew/QEMU's own (edk2-aarch64-code.fd): code + vars template. */
export const AAVMF_FALLBACK: { dir: string; code: string; vars: string }[] = [
  { dir: '/usr/share/AAVMF', code: 'AAVMF_CODE.fd', vars: 'AAVMF_VARS.fd' },
  { dir: '/usr/share/edk2/aarch64', code: 'QEMU_EFI-pflash.raw', vars: 'vars-template-pflash.raw' },
  { dir: '/opt/homebrew/share/qemu', code: 'edk2-aarch64-code.fd', vars: 'edk2-arm-vars.fd' },
  { dir: '/usr/local/share/qemu', code: 'edk2-aarch64-code.fd', vars: 'edk2-arm-vars.fd' },
  { dir: '/usr/share/qemu', code: 'edk2-aarch64-code.fd', vars: 'edk2-arm-vars.fd' },
];

const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/** aarch64 firmware by well-known file names, for hosts whose packages ship no descriptors. */
export async function aavmfFallback(extraDirs: string[] = []): Promise<FirmwareInfo[]> {
  const found: FirmwareInfo[] = [];
  const pairs = [...extraDirs.flatMap((dir) => AAVMF_FALLBACK.map((p) => ({ ...p, dir }))), ...AAVMF_FALLBACK];
  for (const p of pairs) {
    const code = join(p.dir, p.code);
    const vars = join(p.dir, p.vars);
    if (!(await isFile(code)) || !(await isFile(vars))) continue;
    found.push({
      descriptor: null,
      description: `${p.code} (found by file name)`,
      code,
      codeFormat: 'raw',
      varsTemplate: vars,
      varsFormat: 'raw',
      machines: ['virt-*'],
      features: [],
      secureBoot: false,
      enrolledKeys: false,
      requiresSmm: false,
    });
  }
  return found;
}

/**
 * The firmware code as a 64 MiB image. Debian's and Homebrew's builds are padded already and
 * are used in place; an unpadded build (a bare QEMU_EFI.fd) is copied once into the cache,
 * zero-padded, keyed by its size and mtime so an upgraded package gets a new copy.
 */
export async function paddedFlashCode(code: string, cacheDir: string): Promise<string> {
  let st;
  try {
    st = await stat(code);
  } catch (e) {
    throw new VireoError('NOT_FOUND', `the aarch64 UEFI firmware ${code} cannot be read (${(e as Error).message}): ${AAVMF_INSTALL_HINT}`, { code });
  }
  if (st.size === VIRT_FLASH_BYTES) return code;
  if (st.size > VIRT_FLASH_BYTES) {
    throw new VireoError('UNSUPPORTED', `the aarch64 UEFI firmware ${code} is ${st.size} bytes, more than the virt machine's 64 MiB flash bank: choose other firmware (${AAVMF_INSTALL_HINT})`, { code, size: st.size });
  }
  const dir = join(cacheDir, 'firmware');
  const out = join(dir, `${basename(code)}.${st.size}-${Math.round(st.mtimeMs)}.padded.fd`);
  if ((await stat(out).catch(() => null))?.size === VIRT_FLASH_BYTES) return out;
  await mkdir(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await copyFile(code, tmp);
    await truncate(tmp, VIRT_FLASH_BYTES);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new VireoError('IO_ERROR', `could not pad the aarch64 UEFI firmware ${code} to 64 MiB in ${dir}: ${(e as Error).message}`, { code, dir });
  }
  return out;
}
