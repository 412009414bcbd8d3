import type { VmConfig } from '../../api/schemas/vm-config.ts';
import { stateFeatures } from './tpm-compat.ts';

// What a live move between two Vireo engines can carry, checked before anything moves (on the
// source to say why at once, again on the target, which trusts nothing it is sent). Every
// refusal names the thing and what to do. Whatever names a file or a device of the source
// machine is refused rather than carried: the target opens only files in its own library.

export interface Compat {
  qemuVersion: string;
  /** QEMU's concrete machine type (qom-get /machine type), "pc-q35-7.2-machine" */
  machineType: string;
  accel: string;
  /** the -cpu value the VM runs with */
  cpu: string | null;
  /** a VM with a TPM: the swtpm release its state is kept by ("0.7.1"); null when swtpm is missing */
  swtpm?: string | null;
  /** and that swtpm's TPM 2.0 features (tpm-compat.ts): its libtpms' RSA key sizes among them */
  swtpmFeatures?: string[];
  /** UEFI: SMM guards the variable store (it must on both sides, or the guest's SMM state has nowhere to go) */
  smm?: boolean;
}

/** UEFI flash sizes, bytes: QEMU migrates both chips' contents as RAM blocks, which must be the same size. */
export interface FlashSizes {
  code: number;
  vars: number;
}

export function liveRefusals(c: VmConfig, snapshots: number): string[] {
  const r: string[] = [];
  if (c.backend !== 'qemu') r.push(`it runs on the ${c.backend} backend, in a browser page: there is no QEMU to move`);
  if (c.shares.length) r.push(`shared folders (${c.shares.map((s) => s.tag).join(', ')}) are folders of this machine: remove them in Settings → Shared folders first`);
  for (const u of c.usb) {
    if (u.kind === 'host') r.push(`USB device ${u.id} is passed through from this machine: detach it first`);
    if (u.file) r.push(`USB drive ${u.id} is an image file of this machine: detach it first`);
  }
  const isos = [c.cdrom.iso, ...c.cdrom.extra.map((x) => x.iso)].filter(Boolean);
  if (isos.length) r.push(`the CD drive holds ${isos.join(', ')}, a file of this machine: eject it first`);
  if (c.floppy) r.push(`the floppy drive holds ${c.floppy}, a file of this machine: eject it first`);
  if (c.cloudInit) r.push('not yet: its cloud-init seed CD is made on this machine at each start: remove it (Settings → Cloud-init) first');
  if (c.unattended) r.push('an unattended install is in progress: let it finish first');
  if (c.advanced.extraArgs.length) r.push('it has extra QEMU arguments, which can name files and devices of this machine: clear them in Settings → Advanced first');
  if (c.disposable) r.push('it is a disposable VM: it ends with its owner, make a clone to move instead');
  for (const n of c.networks) {
    if (n.mode !== 'user' && n.mode !== 'none') r.push(`network card ${n.id} is ${n.mode}: not yet moved live (only NAT cards are); switch it to NAT or move the VM stopped`);
  }
  for (const d of c.disks) if (d.format !== 'qcow2' && d.format !== 'raw') r.push(`disk ${d.id} is ${d.format}: only qcow2 and raw disks are copied`);
  if (snapshots > 0) r.push(`it has ${snapshots} snapshot${snapshots === 1 ? '' : 's'}: a live move copies what the guest sees, not QEMU's snapshots inside the disk images; delete them, or shut it down and move it stopped (that carries them)`);
  return r;
}

/** The target's own checks of the source's QEMU against the one it starts for the VM. */
export function qemuRefusals(source: Compat, target: Compat): string[] {
  const r: string[] = [];
  const minor = (v: string) => v.split('.').slice(0, 2).join('.');
  if (minor(source.qemuVersion) !== minor(target.qemuVersion)) r.push(`QEMU differs: the source runs ${source.qemuVersion}, this host has ${target.qemuVersion} (a live move needs the same QEMU release on both)`);
  if (source.machineType !== target.machineType) r.push(`machine type differs: the source runs ${source.machineType}, this host's QEMU makes ${target.machineType}`);
  if (source.accel !== target.accel) r.push(`accelerator differs: the source runs under ${source.accel}, this host would use ${target.accel} (a VM cannot change accelerator while it runs)`);
  if (source.cpu !== target.cpu) r.push(`CPU model differs: the source runs -cpu ${source.cpu ?? '(default)'}, this host would use ${target.cpu ?? '(default)'}`);
  // The TPM's state blobs travel in the migration stream and the target's swtpm takes them in:
  // libtpms' state format is swtpm's release's, so both sides must run the same release.
  if (source.swtpm !== undefined) {
    if (!source.swtpm) r.push("swtpm does not answer on the source (its TPM's state cannot be read out): check `swtpm --version` there");
    else if (!target.swtpm) r.push("swtpm is not installed on this host, so the VM's TPM has nowhere to go: install it (Debian/Ubuntu `sudo apt install swtpm swtpm-tools`)");
    else if (source.swtpm !== target.swtpm) r.push(`swtpm differs: the source's TPM state is kept by swtpm ${source.swtpm}, this host has ${target.swtpm} (a TPM moves live only between the same swtpm release; shut the VM down and move it stopped)`);
    else {
      const missing = stateFeatures(source.swtpmFeatures ?? []).filter((f) => !(target.swtpmFeatures ?? []).includes(f));
      if (missing.length) r.push(`swtpm's TPM differs: the source's supports ${missing.join(', ')}, this host's does not (swtpm ${target.swtpm} built on another libtpms): install the same libtpms on both, or move the VM stopped`);
    }
  }
  if (source.smm !== undefined && source.smm !== target.smm) r.push(`UEFI firmware differs: the source's ${source.smm ? 'guards' : 'does not guard'} its variables with SMM, this host's ${target.smm ? 'does' : 'does not'} (Secure Boot firmware needs SMM): install the same OVMF build on both, or move the VM stopped`);
  return r;
}

/** The target's check of its UEFI flash chips against the source's, once its QEMU has made them. */
export function flashRefusals(source: FlashSizes, target: FlashSizes): string[] {
  const r: string[] = [];
  if (source.code !== target.code) r.push(`UEFI firmware differs: the source's code flash is ${source.code} bytes, this host's ${target.code} (the running firmware moves with the guest's memory, so the chips must be the same size): install the same OVMF/AAVMF build on both, or move the VM stopped`);
  if (source.vars !== target.vars) r.push(`UEFI variable store differs: the source's is ${source.vars} bytes, this host's firmware makes ${target.vars}: install the same OVMF/AAVMF build on both, or move the VM stopped`);
  return r;
}

/** SMM guards the UEFI flash in this command line (firmware.ts's -global for cfi.pflash01). */
export const argvSmm = (argv: readonly string[]): boolean => argv.includes('driver=cfi.pflash01,property=secure,value=on');

export const argAfter = (argv: readonly string[], flag: string): string | null => {
  const i = argv.indexOf(flag);
  return i >= 0 ? (argv[i + 1] ?? null) : null;
};

/**
 * What an offline move (a stopped VM's folder) cannot carry. Snapshots, NVRAM and TPM state
 * go with the folder; a CD's ISO or a floppy image is left behind (the caller clears it and
 * says so); the rest names this machine's files or devices and is refused.
 */
export function offlineRefusals(c: VmConfig): string[] {
  const r: string[] = [];
  if (c.shares.length) r.push(`shared folders (${c.shares.map((s) => s.tag).join(', ')}) are folders of this machine: remove them in Settings → Shared folders first`);
  for (const u of c.usb) {
    if (u.kind === 'host') r.push(`USB device ${u.id} is passed through from this machine: remove it first`);
    if (u.file) r.push(`USB drive ${u.id} is an image file of this machine: remove it first`);
  }
  if (c.unattended) r.push('an unattended install is in progress: let it finish first');
  if (c.cloudInit) r.push('not yet: its cloud-init seed CD is made on this machine at each start: remove it (Settings → Cloud-init) first');
  if (c.advanced.extraArgs.length) r.push('it has extra QEMU arguments, which can name files and devices of this machine: clear them in Settings → Advanced first');
  if (c.disposable) r.push('it is a disposable VM: it ends with its owner, make a clone to move instead');
  for (const n of c.networks) if (n.mode === 'bridged') r.push(`network card ${n.id} is bridged to ${n.bridge ?? 'a bridge'} of this machine: switch it to NAT first`);
  if ([c.cdrom.iso, ...c.cdrom.extra.map((x) => x.iso)].some(Boolean) || c.floppy) r.push('a CD or floppy image of another machine is named');
  return r;
}
