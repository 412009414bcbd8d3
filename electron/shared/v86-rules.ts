// What a VM run by the wasm/v86 backend (issue 20) can have: v86 emulates one 32-bit x86 PC
// (a Pentium-class CPU without PAE, long mode or SMP) with an i440FX chipset, IDE disks
// (hda, hdb) and a CD-ROM on the IDE bus, a floppy, VGA (Bochs VBE), an NE2000 network card
// and a Sound Blaster 16. The config schema checks a VM of this backend against it, and the
// wizard and settings read the same lists. Plain data plus one pure check: the renderer may
// import it (electron/shared imports nothing).

/** v86 runs a single 32-bit CPU; guests that need x86_64 or more CPUs are refused. */
export const V86_MAX_CPUS = 1;
/**
 * The guest's RAM lives in the renderer's wasm memory next to v86's JIT: 512 MiB keeps a tab
 * well inside what Chromium grants one wasm instance, and is more than DOS, Windows 9x and
 * the old Linux guests this backend is for can use.
 */
export const V86_MAX_MEMORY_MIB = 512;
export const V86_MIN_MEMORY_MIB = 16;
/** hda and hdb on the primary IDE channel; the CD-ROM is the secondary master. */
export const V86_MAX_DISKS = 2;
export const V86_MAX_NICS = 1;

export const V86_DEVICES = {
  machine: 'pc',
  firmware: 'bios',
  diskBus: 'ide',
  diskFormat: 'raw',
  cdromBus: 'ide',
  displays: ['std'],
  nicModels: ['ne2k_pci'],
  sound: ['none', 'sb16'],
} as const;

/** The trade-off in one sentence, for the wizard and the settings. */
export const V86_TRADE_OFF =
  'runs inside the window with no QEMU needed, but many times slower than QEMU, 32-bit x86 only (no 64-bit guests), one CPU (no SMP), ' +
  `at most ${V86_MAX_MEMORY_MIB} MiB of memory, and only IDE disks, a floppy, a CD-ROM, VGA, an NE2000 card and a Sound Blaster 16`;

interface V86CheckInput {
  backend: string;
  arch: string;
  system: { machine: string; cpus: number; memoryMiB: number; firmware: string; secureBoot: boolean; tpm: boolean };
  disks: readonly { id: string; bus: string; format: string }[];
  cdrom: { bus: string; extra: readonly unknown[] };
  networks: readonly { id: string; model: string; mode: string }[];
  display: { device: string };
  sound: { device: string };
  usb: readonly unknown[];
  shares: readonly unknown[];
  cloudInit: unknown;
  unattended: unknown;
  floppy: string | null;
  advanced: { extraArgs: readonly string[] };
}

export interface V86Issue {
  path: (string | number)[];
  message: string;
}

/** Every value a wasm/v86 VM cannot have, with what to pick instead; a QEMU VM only for a floppy. */
export function v86Issues(c: V86CheckInput): V86Issue[] {
  const out: V86Issue[] = [];
  if (c.backend !== 'wasm/v86') {
    if (c.floppy !== null) out.push({ path: ['floppy'], message: 'floppy images are run only by the wasm/v86 backend for now (not yet with QEMU): remove the floppy or switch the backend' });
    return out;
  }
  const add = (path: (string | number)[], message: string) => out.push({ path, message: `${message} (the wasm/v86 backend emulates a 32-bit PC)` });
  const s = c.system;
  if (c.arch !== 'x86_64') add(['arch'], `architecture "${c.arch}" cannot run: choose x86_64 (its 32-bit guests) or the QEMU backend`);
  if (s.machine !== V86_DEVICES.machine) add(['system', 'machine'], `machine "${s.machine}" does not exist: choose "pc"`);
  if (s.cpus > V86_MAX_CPUS) add(['system', 'cpus'], `${s.cpus} CPUs: it has exactly one (no SMP); set cpus to 1 or use the QEMU backend`);
  if (s.memoryMiB > V86_MAX_MEMORY_MIB) add(['system', 'memoryMiB'], `${s.memoryMiB} MiB is above its cap of ${V86_MAX_MEMORY_MIB} MiB: lower the memory or use the QEMU backend`);
  if (s.firmware !== 'bios') add(['system', 'firmware'], 'UEFI is not available: set the firmware to "bios"');
  if (s.secureBoot) add(['system', 'secureBoot'], 'Secure Boot is not available: turn it off');
  if (s.tpm) add(['system', 'tpm'], 'a TPM is not available: turn it off');
  if (c.disks.length > V86_MAX_DISKS) add(['disks'], `${c.disks.length} disks: at most ${V86_MAX_DISKS} (IDE hda, hdb); remove one`);
  c.disks.forEach((d, i) => {
    if (d.bus !== 'ide') add(['disks', i, 'bus'], `disk ${d.id} on ${d.bus.toUpperCase()}: only IDE exists; choose bus "ide"`);
    if (d.format !== 'raw') add(['disks', i, 'format'], `disk ${d.id} is ${d.format}: it reads raw images only; convert it (vireo disk convert, or qemu-img convert -O raw)`);
  });
  if (c.cdrom.bus !== 'ide') add(['cdrom', 'bus'], `the CD-ROM on ${c.cdrom.bus.toUpperCase()}: only IDE exists; choose bus "ide"`);
  if (c.cdrom.extra.length) add(['cdrom', 'extra'], 'it has one CD drive: remove the extra ones');
  if (c.networks.length > V86_MAX_NICS) add(['networks'], `${c.networks.length} network cards: it has one NE2000; remove the others`);
  c.networks.forEach((n, i) => {
    if (n.model !== 'ne2k_pci') add(['networks', i, 'model'], `card ${n.id} is ${n.model}: it has an NE2000 only; choose model "ne2k_pci"`);
  });
  if (!(V86_DEVICES.displays as readonly string[]).includes(c.display.device)) add(['display', 'device'], `display "${c.display.device}" does not exist: choose "std" (VGA with Bochs VBE)`);
  if (!(V86_DEVICES.sound as readonly string[]).includes(c.sound.device)) add(['sound', 'device'], `sound card "${c.sound.device}" does not exist: choose "sb16" or "none"`);
  if (c.usb.length) add(['usb'], 'USB devices are not available: remove them');
  if (c.shares.length) add(['shares'], 'shared folders are not available: remove them');
  if (c.cloudInit) add(['cloudInit'], 'a cloud-init seed is not available: use the QEMU backend for cloud images');
  if (c.unattended) add(['unattended'], 'an express install is not available: install by hand, or use the QEMU backend');
  if (c.advanced.extraArgs.length) add(['advanced', 'extraArgs'], 'extra QEMU arguments do not apply: remove them');
  return out;
}

/** Windows releases v86 runs (16/32-bit, no PAE or SSE2 needed): 3.x, 9x/ME, NT 4, 2000. */
const V86_WINDOWS = /^win(3(\.\d+)?|95|98|me|nt4(\.\d+)?|2k)$/;
/** Linux released before this (no PAE/SSE2 kernel required, 32-bit media) counts as old. */
const OLD_LINUX_BEFORE = '2010-01-01';

export interface BackendProposal {
  propose: boolean;
  /** why, for the wizard: the OS, or that no QEMU was found; null when not proposed */
  why: string | null;
}

/**
 * Whether the wizard proposes the wasm/v86 backend: for DOS, Windows 3.x–2000 and old 32-bit
 * Linux, and for any x86 OS when no QEMU is installed (then v86 is the only way to run it here).
 */
export function proposeV86(os: { id: string; name: string; family: string; releaseDate?: string } | null, qemu: { found: boolean }): BackendProposal {
  if (!qemu.found) return { propose: true, why: 'no QEMU was found on this computer, and the wasm/v86 backend needs none' };
  if (!os) return { propose: false, why: null };
  if (os.family === 'dos') return { propose: true, why: `${os.name} is a DOS, which v86 runs well` };
  if (os.family === 'windows' && V86_WINDOWS.test(os.id)) return { propose: true, why: `${os.name} is a 32-bit Windows that v86 runs` };
  if (os.family === 'linux' && os.releaseDate && os.releaseDate < OLD_LINUX_BEFORE) return { propose: true, why: `${os.name} is an old Linux, whose 32-bit media v86 can boot` };
  return { propose: false, why: null };
}
