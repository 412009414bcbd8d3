import { open, stat } from 'node:fs/promises';
import type { Handlers } from '../../api/contract.ts';
import type { BootProblem } from '../../api/types.ts';
import type { EngineParts } from '../parts.ts';
import { IsoReader } from '../osdetect/iso9660.ts';
import { bootPlatforms, readBootCatalog, type BootPlatforms } from '../osdetect/eltorito.ts';

// "The firmware found nothing to start", as the real firmware shows it (probed with Debian's
// OVMF and SeaBIOS and an unbootable disk):
// - OVMF mirrors its console on the serial port: its shell's banner and "Shell> " prompt reach
//   the VM's serial log (the engine always logs serial0).
// - SeaBIOS writes "No bootable device." on the VGA text screen (and the debug port, which
//   Vireo does not wire); QEMU reads that screen's memory at 0xB8000 through the monitor.
// The screen tab asks while the VM runs and offers the other firmware when it may help.

const SERIAL_TAIL = 8192;
const VGA_TEXT = 0xb8000;
const VGA_BYTES = 80 * 25 * 2;

/** Serial text without the terminal's colour and cursor escapes. */
export function plainSerial(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

/** The serial output ends at the UEFI shell's prompt: the firmware found nothing to start. */
export function atEfiShell(serial: string): boolean {
  return /Shell>\s*$/.test(plainSerial(serial));
}

/** Characters of the 80×25 VGA text screen from `xp /Nxb` monitor output (char, attribute pairs). */
export function vgaTextFromXp(xp: string): string {
  const bytes = [...xp.matchAll(/0x([0-9a-f]{2})\b/gi)].map((m) => parseInt(m[1]!, 16));
  let out = '';
  for (let i = 0; i < bytes.length; i += 2) {
    out += bytes[i]! >= 32 && bytes[i]! < 127 ? String.fromCharCode(bytes[i]!) : ' ';
    if ((i / 2) % 80 === 79) out += '\n';
  }
  return out;
}

async function serialTail(file: string, since: string | null): Promise<string> {
  const st = await stat(file).catch(() => null);
  // a log not written since this start holds an earlier boot's output
  if (!st || (since && st.mtimeMs < Date.parse(since) - 1000)) return '';
  const fh = await open(file, 'r');
  try {
    const len = Math.min(SERIAL_TAIL, st.size);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, st.size - len);
    return buf.toString('latin1');
  } finally {
    await fh.close();
  }
}

async function discPlatforms(iso: string | null | undefined): Promise<BootPlatforms | undefined> {
  if (!iso) return undefined;
  const reader = await IsoReader.open(iso).catch(() => null);
  if (!reader) return undefined;
  try {
    const cat = await readBootCatalog(reader).catch(() => undefined);
    return cat ? bootPlatforms(cat) : undefined;
  } finally {
    await reader.close();
  }
}

export function bootProblemHandlers(p: EngineParts): Pick<Handlers, 'vms.bootProblem'> {
  return {
    'vms.bootProblem': async (a) => {
      const entry = p.vms.resolve(a.vm);
      const m = p.vms.machineFor(entry);
      const c = entry.config;
      if (!c || !m.isActive || m.state !== 'running') return null;
      const fw = c.system.firmware;
      let kind: BootProblem['kind'] | undefined;
      if (fw === 'uefi') {
        if (atEfiShell(await serialTail(entry.paths.serialLog, m.info?.startedAt ?? null))) kind = 'efi-shell';
      } else {
        const xp = await m.monitor('read the screen').execute<string>('human-monitor-command', { 'command-line': `xp /${VGA_BYTES}xb ${VGA_TEXT}` });
        if (/No bootable device/.test(vgaTextFromXp(xp))) kind = 'no-bootable-device';
      }
      if (!kind) return null;
      const other = fw === 'uefi' ? 'bios' : 'uefi';
      const disc = await discPlatforms(c.cdrom.iso);
      const discCanOther = disc ? (other === 'bios' ? disc.bios : disc.efi) : undefined;
      const what = kind === 'efi-shell' ? 'The UEFI firmware found nothing it can start and opened the UEFI shell.' : 'The BIOS found no bootable device.';
      const why =
        discCanOther === true ? ` This VM's disc can only start with ${other === 'bios' ? 'BIOS' : 'UEFI'}.`
        : discCanOther === false ? ` The disc cannot start with ${other === 'bios' ? 'BIOS' : 'UEFI'} either: check the ISO in Settings → CD-ROM.`
        : c.cdrom.iso ? '' : ' No ISO is inserted: insert one in Settings → CD-ROM, or switch the firmware if the disk was installed with the other one.';
      return {
        kind,
        firmware: fw,
        message: what + why,
        fix: discCanOther === false || c.arch === 'aarch64' ? null : { firmware: other, label: `Switch to ${other === 'bios' ? 'BIOS' : 'UEFI'} and restart` },
      };
    },
  };
}
