import { posix, win32 } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Disk, VmConfig } from '../../api/schemas/vm-config.ts';

// QEMU's argv as a pure function of a VM config plus facts about the host. Nothing here reads
// the file system, the environment or the clock, so golden files can pin the output and the
// engine can log exactly what it is about to run.

/** The part of the capability probe that argv needs; structural so the probe can evolve. */
export interface ArgvCaps {
  versionParts: [number, number, number];
  /** `-machine help` names; empty means "not probed" and skips the check */
  machines: string[];
  /** `-device help` names; empty means "not probed" and skips the check */
  devices: string[];
  /** `-chardev help` names, when probed; qemu-vdagent is not a device so needs its own list */
  chardevs?: string[];
}

export interface ArgvFirmware {
  code: string;
  /** raw unless the descriptor says otherwise (Fedora ships qcow2 code images) */
  codeFormat?: 'raw' | 'qcow2';
  vars: string;
  varsFormat: 'qcow2' | 'raw';
  secureBoot: boolean;
  requiresSmm: boolean;
}

export type AudioBackend = 'none' | 'pa' | 'pipewire' | 'alsa' | 'coreaudio' | 'dsound' | 'sdl';

export interface ArgvContext {
  /** absolute VM folder; disks with relative paths live inside it */
  vmDir: string;
  /** short folder for unix sockets (~100 byte limit on socket paths) */
  runtimeDir: string;
  /** the accelerator the engine settled on (config "auto" is resolved before argv) */
  accel: 'kvm' | 'hvf' | 'whpx' | 'tcg';
  caps: ArgvCaps;
  platform: NodeJS.Platform;
  /** the chosen UEFI firmware and this VM's NVRAM copy; required when firmware is uefi */
  firmware?: ArgvFirmware;
  /** swtpm control socket; required when config.system.tpm */
  tpmSocket?: string;
  pidFile: string;
  serialLog: string;
  /** host audio backend for the guest's sound card; "none" keeps the device but stays silent */
  audioBackend?: AudioBackend;
}

/** Oldest QEMU whose option syntax this builder emits (Ubuntu 22.04 ships 6.2). */
export const MIN_QEMU_VERSION: [number, number, number] = [6, 2, 0];

/**
 * Escape a value placed inside a comma-separated QEMU option (`-blockdev file=...,x=y`):
 * QEMU's option parser reads `,,` as a literal comma. Every user- or host-controlled value
 * in such an option goes through here; values passed as a whole argument (-pidfile) do not.
 */
export function qemuOptEscape(value: string): string {
  return value.replaceAll(',', ',,');
}

const onOff = (b: boolean) => (b ? 'on' : 'off');

/** Socket and file names the engine shares with argv; one place so they cannot drift. */
export function runtimePaths(runtimeDir: string, platform: NodeJS.Platform) {
  const p = platform === 'win32' ? win32 : posix;
  return {
    qmp: p.join(runtimeDir, 'qmp.sock'),
    vnc: p.join(runtimeDir, 'vnc.sock'),
    serial: p.join(runtimeDir, 'serial.sock'),
  };
}

/** Stable ids other engine modules address through QMP. */
export const QEMU_IDS = {
  cdromDevice: 'cdrom0',
  balloon: 'balloon0',
  usb: 'usb0',
  net: 'net0',
  pflashCode: 'pflash0',
  pflashVars: 'pflash1',
  diskNode: (d: Pick<Disk, 'id'>) => d.id,
  diskFileNode: (d: Pick<Disk, 'id'>) => `${d.id}-file`,
  diskDevice: (d: Pick<Disk, 'id'>) => `${d.id}-dev`,
} as const;

const DISPLAY_DEVICES: Record<VmConfig['display']['device'], string | null> = {
  'virtio-vga': 'virtio-vga',
  'virtio-gpu-pci': 'virtio-gpu-pci',
  std: 'VGA',
  cirrus: 'cirrus-vga',
  qxl: 'qxl-vga',
  none: null,
};

const USB_CONTROLLERS: Record<VmConfig['devices']['usb'], string | null> = {
  xhci: 'qemu-xhci',
  ehci: 'usb-ehci',
  uhci: 'piix3-usb-uhci',
  none: null,
};

// hv_* flags Windows benefits from under a hypervisor; the set libvirt and Proxmox enable
// for modern Windows. TCG implements none of them usefully, HVF not at all.
const HYPERV_FLAGS = [
  'hv_relaxed',
  'hv_vapic',
  'hv_spinlocks=0x1fff',
  'hv_time',
  'hv_vpindex',
  'hv_synic',
  'hv_stimer',
  'hv_reset',
  'hv_frequencies',
  'hv_runtime',
  'hv_tlbflush',
  'hv_ipi',
];

function versionAtLeast(have: [number, number, number], want: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    if (have[i]! !== want[i]!) return have[i]! > want[i]!;
  }
  return true;
}

/** Storage slot on a controller, with the `-device` properties that address it. */
interface Slot {
  props: string[];
}

/**
 * Hands out controller slots in a fixed order, so the same config always yields the same
 * guest-visible topology (Windows and old OSes care which port a disk sits on).
 */
class StorageLayout {
  readonly controllerArgs: string[] = [];
  private ideNext = 0;
  private ahciNext = 0;
  private scsiNext = 0;
  private ahciAdded = false;
  private scsiAdded = false;

  constructor(
    private readonly machine: 'q35' | 'pc',
    private readonly need: (device: string, why: string) => void,
    cdromOnPiixIde: boolean,
  ) {
    // On i440fx the secondary master is where DOS/Win9x CD drivers look first, so the
    // CD-ROM takes it and disks fill the other three positions.
    this.piixOrder = cdromOnPiixIde
      ? [[0, 0], [0, 1], [1, 1]]
      : [[0, 0], [0, 1], [1, 0], [1, 1]];
  }

  private readonly piixOrder: [number, number][];

  /** IDE on i440fx is the PIIX controller; on q35 "IDE" and "SATA" are both the ICH9 AHCI. */
  ide(what: string, forCdrom = false): Slot {
    if (this.machine === 'q35') return this.q35Ahci(what);
    if (forCdrom) return { props: ['bus=ide.1', 'unit=0'] };
    const pos = this.piixOrder[this.ideNext++];
    if (!pos) {
      throw new VireoError('INVALID_ARGUMENT', `too many IDE drives (${what}): the pc machine has 4 IDE positions, one of them used by the CD-ROM; move a disk to SATA, SCSI or virtio`, { what });
    }
    return { props: [`bus=ide.${pos[0]}`, `unit=${pos[1]}`] };
  }

  sata(what: string): Slot {
    if (this.machine === 'q35') return this.q35Ahci(what);
    if (!this.ahciAdded) {
      this.need('ich9-ahci', 'SATA on the pc machine');
      this.controllerArgs.push('-device', 'ich9-ahci,id=ahci0');
      this.ahciAdded = true;
    }
    const n = this.ahciNext++;
    if (n > 5) throw new VireoError('INVALID_ARGUMENT', `too many SATA drives (${what}): the AHCI controller has 6 ports; move a disk to SCSI or virtio`, { what });
    return { props: [`bus=ahci0.${n}`] };
  }

  scsi(): Slot {
    if (!this.scsiAdded) {
      this.need('virtio-scsi-pci', 'SCSI disks and CD-ROMs');
      this.controllerArgs.push('-device', 'virtio-scsi-pci,id=scsi0');
      this.scsiAdded = true;
    }
    const n = this.scsiNext++;
    return { props: ['bus=scsi0.0', 'channel=0', `scsi-id=${n}`, 'lun=0'] };
  }

  private q35Ahci(what: string): Slot {
    const n = this.ideNext++;
    if (n > 5) throw new VireoError('INVALID_ARGUMENT', `too many IDE/SATA drives (${what}): q35's built-in AHCI controller has 6 ports; move a disk to SCSI or virtio`, { what });
    return { props: [`bus=ide.${n}`] };
  }
}

export function buildArgv(config: VmConfig, ctx: ArgvContext): string[] {
  const p = ctx.platform === 'win32' ? win32 : posix;
  const esc = qemuOptEscape;
  const { caps } = ctx;
  const sys = config.system;
  const args: string[] = [];
  const add = (...a: string[]) => args.push(...a);

  if (!versionAtLeast(caps.versionParts, MIN_QEMU_VERSION)) {
    throw new VireoError(
      'UNSUPPORTED',
      `QEMU ${caps.versionParts.join('.')} is too old: Vireo needs QEMU ${MIN_QEMU_VERSION.join('.')} or newer; update QEMU or point Vireo at a newer binary in Settings`,
      { version: caps.versionParts, minimum: MIN_QEMU_VERSION },
    );
  }
  const need = (device: string, why: string) => {
    if (caps.devices.length > 0 && !caps.devices.includes(device)) {
      throw new VireoError(
        'UNSUPPORTED',
        `this QEMU build has no "${device}" device, needed for ${why}: pick another device in the VM's settings or install a QEMU build that includes it`,
        { device },
      );
    }
  };
  const has = (device: string) => caps.devices.length === 0 || caps.devices.includes(device);
  if (caps.machines.length > 0 && !caps.machines.includes(sys.machine)) {
    throw new VireoError('UNSUPPORTED', `this QEMU build has no "${sys.machine}" machine type: choose the other machine type in the VM's settings`, { machine: sys.machine });
  }

  // --- firmware consistency: the engine picks firmware and starts swtpm from the config;
  // argv refuses a context that disagrees rather than starting a VM that silently differs.
  const uefi = sys.firmware === 'uefi';
  const fw = uefi ? ctx.firmware : undefined;
  if (uefi && !fw) {
    throw new VireoError('INTERNAL', 'the VM uses UEFI but no firmware was chosen before building the QEMU command line', { vm: config.id });
  }
  if (sys.secureBoot && !uefi) {
    throw new VireoError('INVALID_ARGUMENT', 'Secure Boot needs UEFI firmware: set the firmware to UEFI or turn Secure Boot off', { firmware: sys.firmware });
  }
  if (sys.secureBoot && fw && !fw.secureBoot) {
    throw new VireoError('INTERNAL', `Secure Boot is on but the chosen firmware ${fw.code} does not support it`, { firmware: fw });
  }
  const smm = !!fw && (fw.requiresSmm || sys.secureBoot);
  if (smm && sys.machine !== 'q35') {
    throw new VireoError('UNSUPPORTED', 'Secure Boot (and SMM-based UEFI firmware) needs the q35 machine type: switch the machine to q35 or turn Secure Boot off', { machine: sys.machine });
  }
  if (sys.tpm && !ctx.tpmSocket) {
    throw new VireoError('INTERNAL', 'the VM has a TPM but swtpm was not started before building the QEMU command line', { vm: config.id });
  }

  // --- process identity and control channels
  const rt = runtimePaths(ctx.runtimeDir, ctx.platform);
  add('-nodefaults', '-no-user-config', '-S');
  // guest= explicitly: with an implied key, a name containing "=" would be read as an option.
  add('-name', `guest=${esc(config.name)},process=vireo-${config.id.slice(0, 8)}`);
  add('-uuid', config.id);
  add('-pidfile', ctx.pidFile);
  add('-qmp', `unix:${esc(rt.qmp)},server=on,wait=off`);
  add('-display', 'none');
  add('-vnc', `unix:${esc(rt.vnc)}`);

  // --- machine, accelerator, CPU, memory, clock
  const machine: string[] = [sys.machine];
  if (smm) machine.push('smm=on');
  if (fw) machine.push(`pflash0=${QEMU_IDS.pflashCode}`, `pflash1=${QEMU_IDS.pflashVars}`);
  add('-machine', machine.join(','));
  // WHPX's in-kernel irqchip fails on many Windows builds; QEMU's own docs recommend off.
  add('-accel', ctx.accel === 'whpx' ? 'whpx,kernel-irqchip=off' : ctx.accel);

  const hw = ctx.accel !== 'tcg';
  // "host" means nothing to an emulator; when the engine fell back to TCG (e.g. broken
  // nested KVM) the closest equivalent is "max", so the VM still starts.
  let cpu = sys.cpuModel === 'auto' ? (hw ? 'host' : 'max') : sys.cpuModel;
  if (!hw && cpu.split(',')[0] === 'host') cpu = ['max', ...cpu.split(',').slice(1)].join(',');
  if (sys.hyperv && (ctx.accel === 'kvm' || ctx.accel === 'whpx')) cpu = [cpu, ...HYPERV_FLAGS].join(',');
  add('-cpu', cpu);
  // One socket: Windows client editions use at most two sockets, but any number of cores.
  add('-smp', `cpus=${sys.cpus},sockets=1,cores=${sys.cpus},threads=1`);
  add('-m', `${sys.memoryMiB}M`);
  add('-rtc', `base=${sys.rtcLocalTime ? 'localtime' : 'utc'}`);

  // --- UEFI flash: blockdev nodes so the vars (qcow2) are part of live snapshots
  if (fw) {
    add('-blockdev', `driver=file,node-name=${QEMU_IDS.pflashCode}-file,filename=${esc(fw.code)},read-only=on`);
    add('-blockdev', `driver=${fw.codeFormat ?? 'raw'},node-name=${QEMU_IDS.pflashCode},file=${QEMU_IDS.pflashCode}-file,read-only=on`);
    add('-blockdev', `driver=file,node-name=${QEMU_IDS.pflashVars}-file,filename=${esc(fw.vars)}`);
    add('-blockdev', `driver=${fw.varsFormat},node-name=${QEMU_IDS.pflashVars},file=${QEMU_IDS.pflashVars}-file`);
    if (smm) add('-global', 'driver=cfi.pflash01,property=secure,value=on');
  }

  // --- boot order as bootindex per device: works for SeaBIOS and OVMF alike
  const bootIndex = new Map<string, number>();
  let nextBoot = 1;
  for (const what of config.boot.order) {
    if (what === 'disk') for (const d of config.disks) bootIndex.set(`disk:${d.id}`, nextBoot++);
    else if (what === 'cdrom') bootIndex.set('cdrom', nextBoot++);
    else if (what === 'network' && config.networks.length > 0) bootIndex.set('network', nextBoot++);
  }
  const bootProp = (key: string) => (bootIndex.has(key) ? [`bootindex=${bootIndex.get(key)}`] : []);
  if (config.boot.menu) add('-boot', 'menu=on');

  // --- storage
  const cdromOnPiix = sys.machine === 'pc' && config.cdrom.bus === 'ide';
  const layout = new StorageLayout(sys.machine, need, cdromOnPiix);
  const storageArgs: string[] = [];
  const seenIds = new Set<string>();
  for (const d of config.disks) {
    if (seenIds.has(d.id) || d.id.startsWith('cdrom') || d.id.startsWith('pflash')) {
      throw new VireoError('INVALID_ARGUMENT', `disk id "${d.id}" is used twice or is reserved (cdrom*, pflash*): give each disk its own id`, { id: d.id });
    }
    seenIds.add(d.id);
    const file = p.isAbsolute(d.file) ? d.file : p.join(ctx.vmDir, d.file);
    const ro = d.readOnly ? ',read-only=on' : '';
    const cache = `cache.direct=${onOff(d.cache === 'none')},cache.no-flush=${onOff(d.cache === 'unsafe')}`;
    const discard = `discard=${d.discard ? 'unmap' : 'ignore'}`;
    const fileNode = QEMU_IDS.diskFileNode(d);
    const node = QEMU_IDS.diskNode(d);
    storageArgs.push('-blockdev', `driver=file,node-name=${fileNode},filename=${esc(file)},${cache},${discard}${ro}`);
    storageArgs.push('-blockdev', `driver=${d.format},node-name=${node},file=${fileNode},${cache},${discard}${ro}`);
    const dev = [`drive=${node}`, `id=${QEMU_IDS.diskDevice(d)}`, ...bootProp(`disk:${d.id}`)];
    switch (d.bus) {
      case 'virtio':
        need('virtio-blk-pci', `disk ${d.id} on virtio`);
        storageArgs.push('-device', ['virtio-blk-pci', ...dev].join(','));
        break;
      case 'ide':
        storageArgs.push('-device', ['ide-hd', ...layout.ide(d.id).props, ...dev].join(','));
        break;
      case 'sata':
        storageArgs.push('-device', ['ide-hd', ...layout.sata(d.id).props, ...dev].join(','));
        break;
      case 'scsi':
        storageArgs.push('-device', ['scsi-hd', ...layout.scsi().props, ...dev].join(','));
        break;
    }
  }

  // The CD-ROM drive always exists, empty or not, so an ISO can be inserted or swapped
  // while the guest runs (QMP blockdev-change-medium id=cdrom0).
  {
    const cd = config.cdrom;
    const slot = cd.bus === 'ide' ? layout.ide('cdrom', true) : cd.bus === 'sata' ? layout.sata('cdrom') : layout.scsi();
    const model = cd.bus === 'scsi' ? 'scsi-cd' : 'ide-cd';
    const dev = [model, ...slot.props, `id=${QEMU_IDS.cdromDevice}`];
    if (cd.iso !== null) {
      const iso = p.isAbsolute(cd.iso) ? cd.iso : p.join(ctx.vmDir, cd.iso);
      storageArgs.push('-blockdev', `driver=file,node-name=cdrom0-file,filename=${esc(iso)},read-only=on`);
      storageArgs.push('-blockdev', 'driver=raw,node-name=cdrom0-media,file=cdrom0-file,read-only=on');
      dev.push('drive=cdrom0-media');
    }
    dev.push(...bootProp('cdrom'));
    storageArgs.push('-device', dev.join(','));
  }
  add(...layout.controllerArgs, ...storageArgs);

  // --- network: NIC i is netdev net<i> and device nic<i>; "network" boot is the first NIC
  config.networks.forEach((nic, i) => {
    const net = [`user,id=${nic.id}`];
    for (const f of nic.portForwards) {
      net.push(`hostfwd=${f.protocol}:${esc(f.hostAddress)}:${f.hostPort}-:${f.guestPort}`);
    }
    need(nic.model, 'the network card');
    add('-netdev', net.join(','));
    add('-device', [nic.model, `netdev=${nic.id}`, `mac=${nic.mac}`, `id=${nic.id.replace('net', 'nic')}`, ...(i === 0 ? bootProp('network') : [])].join(','));
  });

  // --- display, USB, input
  const display = DISPLAY_DEVICES[config.display.device];
  if (display) {
    need(display, 'the display');
    add('-device', `${display},id=video0`);
  }
  const usb = USB_CONTROLLERS[config.devices.usb];
  if (usb) {
    need(usb, 'the USB controller');
    add('-device', `${usb},id=${QEMU_IDS.usb}`);
    // Without a USB controller the guest keeps the machine's PS/2 mouse (what DOS wants).
    if (config.input.tablet) add('-device', `usb-tablet,bus=${QEMU_IDS.usb}.0,id=tablet0`);
  }

  // --- sound: the backend belongs to the host, the card to the guest
  if (config.sound.device !== 'none') {
    add('-audiodev', `${ctx.audioBackend ?? 'none'},id=snd0`);
    switch (config.sound.device) {
      case 'hda':
        need('intel-hda', 'HD Audio');
        add('-device', 'intel-hda,id=sound0', '-device', 'hda-duplex,bus=sound0.0,audiodev=snd0');
        break;
      case 'ac97':
        need('AC97', 'AC97 sound');
        add('-device', 'AC97,id=sound0,audiodev=snd0');
        break;
      case 'sb16':
        need('sb16', 'Sound Blaster 16');
        add('-device', 'sb16,id=sound0,audiodev=snd0');
        break;
    }
  }

  // --- paravirtual helpers
  if (config.devices.rng) {
    need('virtio-rng-pci', 'the random number generator');
    // rng-builtin needs no host device path, so it works on every host OS.
    add('-object', 'rng-builtin,id=rng0', '-device', 'virtio-rng-pci,rng=rng0,id=rng0-dev');
  }
  if (config.devices.balloon) {
    need('virtio-balloon-pci', 'the memory balloon');
    add('-device', `virtio-balloon-pci,id=${QEMU_IDS.balloon}`);
  }
  const vdagentOk =
    has('virtio-serial-pci') && has('virtserialport') && (caps.chardevs === undefined || caps.chardevs.includes('qemu-vdagent'));
  if (config.devices.clipboard && vdagentOk) {
    // mouse=off: pointer input already comes from usb-tablet; two absolute sources fight.
    add('-chardev', 'qemu-vdagent,id=vdagent,clipboard=on,mouse=off');
    add('-device', 'virtio-serial-pci,id=vdagent-serial');
    add('-device', 'virtserialport,bus=vdagent-serial.0,chardev=vdagent,name=com.redhat.spice.0');
  }

  // --- serial console, logged for the "why did it not boot" view
  if (config.serial.enabled) {
    add('-chardev', `socket,id=serial0,path=${esc(rt.serial)},server=on,wait=off,logfile=${esc(ctx.serialLog)},logappend=on`);
    add('-serial', 'chardev:serial0');
  }

  // --- TPM via swtpm; CRB is the TPM 2.0 interface q35 guests expect, TIS for i440fx
  if (sys.tpm && ctx.tpmSocket) {
    const tpmModel = sys.machine === 'q35' && has('tpm-crb') ? 'tpm-crb' : 'tpm-tis';
    need(tpmModel, 'the TPM');
    add('-chardev', `socket,id=chrtpm,path=${esc(ctx.tpmSocket)}`);
    add('-tpmdev', 'emulator,id=tpm0,chardev=chrtpm');
    add('-device', `${tpmModel},tpmdev=tpm0,id=tpm0-dev`);
  }

  // CPU pinning and priority are applied by the engine to the QEMU process, not via argv.
  add(...config.advanced.extraArgs);
  return args;
}
