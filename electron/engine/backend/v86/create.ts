import { open } from 'node:fs/promises';
import { VireoError } from '../../../api/errors.ts';
import type { ParsedArgs } from '../../../api/contract.ts';
import { V86_DEVICES, V86_MAX_MEMORY_MIB, V86_MIN_MEMORY_MIB } from '../../../shared/v86-rules.ts';

// A new VM of the wasm/v86 backend (issue 20), for vms.create (vm/create.ts): what such a VM
// cannot be is refused before anything touches the disk, with the field and what to choose;
// its config is the legacy PC v86 emulates; its disk is a sparse raw file made without
// qemu-img, since this backend is also the one offered when no QEMU is installed.

type CreateArgs = ParsedArgs<'vms.create'>;

const refuse = (field: string, message: string) => new VireoError('INVALID_ARGUMENT', `${message} (the wasm/v86 backend emulates one 32-bit PC)`, { field });

/** Every argument a v86 VM cannot take, checked before the job starts; throws the first. */
export function checkV86Create(args: CreateArgs, arch: string, memoryMiB: number): void {
  if (arch !== 'x86_64') throw refuse('arch', `architecture ${arch} cannot run: choose x86_64 (its 32-bit guests) or the QEMU backend`);
  if (args.cpus !== undefined && args.cpus !== 1) throw refuse('cpus', `${args.cpus} CPUs: it has exactly one (no SMP); give 1 CPU or use the QEMU backend`);
  if (memoryMiB > V86_MAX_MEMORY_MIB) throw refuse('memory', `${memoryMiB} MiB is above its cap of ${V86_MAX_MEMORY_MIB} MiB: give less memory or use the QEMU backend`);
  if (memoryMiB < V86_MIN_MEMORY_MIB) throw refuse('memory', `${memoryMiB} MiB is too little: give at least ${V86_MIN_MEMORY_MIB} MiB`);
  if (args.firmware === 'uefi') throw refuse('firmware', 'UEFI is not available: choose BIOS');
  if (args.secureBoot) throw refuse('secureBoot', 'Secure Boot is not available: turn it off');
  if (args.tpm) throw refuse('tpm', 'a TPM is not available: turn it off');
  if (args.accel && args.accel !== 'auto') throw refuse('accel', `accelerator ${args.accel} does not apply: leave it out`);
  if (args.importDisk) throw refuse('importDisk', 'not yet: importing a disk converts it to qcow2, and v86 reads raw images only; create the VM with an empty disk, then put a raw image in its place (qemu-img convert -O raw)');
  if (args.cloud) throw refuse('cloud', 'a cloud image with its seed is not available: use the QEMU backend for cloud images');
  if (args.unattended) throw refuse('unattended', 'an express install is not available: install by hand in the window, or use the QEMU backend');
  if (args.start) throw new VireoError('INVALID_ARGUMENT', 'a wasm/v86 VM runs inside the window, not in the engine: create it without starting, then open its Screen tab and choose "Start in this window"', { field: 'start' });
}

/** The config of a v86 VM, merged over the legacy PC defaults (the NIC's id keeps the MAC the library gave it). */
export function v86ConfigPatch(memoryMiB: number, hasDisk: boolean): Record<string, unknown> {
  return {
    backend: 'wasm/v86',
    profile: 'legacy',
    system: { machine: V86_DEVICES.machine, cpus: 1, memoryMiB, firmware: 'bios', secureBoot: false, tpm: false, accel: 'auto', hyperv: false },
    disks: hasDisk ? [{ id: 'disk0', file: 'disk0.img', format: 'raw', bus: 'ide', readOnly: false, cache: 'writeback', discard: false }] : [],
    cdrom: { bus: 'ide', extra: [] },
    networks: [{ id: 'net0', model: 'ne2k_pci', mode: 'user' }],
    display: { device: 'std', resolution: null },
    input: { tablet: false },
    sound: { device: 'sb16' },
    devices: { usb: 'none', rng: false, balloon: false, clipboard: false },
    usb: [],
  };
}

/** A sparse raw image of `bytes` (rounded up to whole 512-byte sectors, as IDE counts them). */
export async function createRawDisk(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.truncate(Math.ceil(bytes / 512) * 512);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
