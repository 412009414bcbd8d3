import { VireoError } from '../../../api/errors.ts';
import { QEMU_IDS } from './context.ts';
import { onOff, type Builder, type Helpers } from './helpers.ts';
import { diskTopNode } from './limits.ts';
import { seedDrives } from '../../cloud/seed-drive.ts';

// Disks and the CD-ROM: blockdev nodes, the controllers they need, and the devices on them.

/** The QEMU id of CD drive i: cdrom0 is the first (QEMU_IDS.cdromDevice), then cdrom1, ... */
export const cdromId = (i: number) => (i === 0 ? QEMU_IDS.cdromDevice : `cdrom${i}`);

/** Storage slot on a controller, with the `-device` properties that address it. */
interface Slot {
  props: string[];
}

/**
 * Hands out controller slots in a fixed order, so the same config always yields the same
 * guest-visible topology (Windows and old OSes care which port a disk sits on).
 */
export class StorageLayout {
  readonly controllerArgs: string[] = [];
  private ideNext = 0;
  private ahciNext = 0;
  private scsiNext = 0;
  private ahciAdded = false;
  private scsiAdded = false;
  private readonly piixOrder: [number, number][];

  constructor(
    /** virt (aarch64) has no IDE (arch-rules.ts refuses it) and takes SATA through ich9-ahci as pc does */
    private readonly machine: 'q35' | 'pc' | 'virt',
    private readonly need: Helpers['need'],
    cdromOnPiixIde: boolean,
  ) {
    // On i440fx the secondary master is where DOS/Win9x CD drivers look first, so the
    // CD-ROM takes it and disks fill the other three positions.
    this.piixOrder = cdromOnPiixIde
      ? [[0, 0], [0, 1], [1, 1]]
      : [[0, 0], [0, 1], [1, 0], [1, 1]];
  }

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

export const storageArgs: Builder = (config, _ctx, h) => {
  const { esc, need, bootProp } = h;
  const machine = config.system.machine;
  const layout = new StorageLayout(machine, need, machine === 'pc' && config.cdrom.bus === 'ide');
  const args: string[] = [];
  const seenIds = new Set<string>();
  for (const d of config.disks) {
    if (seenIds.has(d.id) || d.id.startsWith('cdrom') || d.id.startsWith('pflash')) {
      throw new VireoError('INVALID_ARGUMENT', `disk id "${d.id}" is used twice or is reserved (cdrom*, pflash*): give each disk its own id`, { id: d.id });
    }
    seenIds.add(d.id);
    const ro = d.readOnly ? ',read-only=on' : '';
    const cache = `cache.direct=${onOff(d.cache === 'none')},cache.no-flush=${onOff(d.cache === 'unsafe')}`;
    const discard = `discard=${d.discard ? 'unmap' : 'ignore'}`;
    const fileNode = QEMU_IDS.diskFileNode(d);
    const node = QEMU_IDS.diskNode(d);
    args.push('-blockdev', `driver=file,node-name=${fileNode},filename=${esc(h.resolve(d.file))},${cache},${discard}${ro}`);
    args.push('-blockdev', `driver=${d.format},node-name=${node},file=${fileNode},${cache},${discard}${ro}`);
    // With disk limits the device reads through the VM's throttle group (limits.ts).
    const dev = [`drive=${diskTopNode(config, d, node, args)}`, `id=${QEMU_IDS.diskDevice(d)}`, ...bootProp(`disk:${d.id}`)];
    switch (d.bus) {
      case 'virtio':
        need('virtio-blk-pci', `disk ${d.id} on virtio`);
        args.push('-device', ['virtio-blk-pci', ...dev].join(','));
        break;
      case 'ide':
        args.push('-device', ['ide-hd', ...layout.ide(d.id).props, ...dev].join(','));
        break;
      case 'sata':
        args.push('-device', ['ide-hd', ...layout.sata(d.id).props, ...dev].join(','));
        break;
      case 'scsi':
        args.push('-device', ['scsi-hd', ...layout.scsi().props, ...dev].join(','));
        break;
    }
  }

  // The CD-ROM drive always exists, empty or not, so an ISO can be inserted or swapped
  // while the guest runs (QMP blockdev-change-medium id=cdrom0). More drives follow it, each
  // with its own ISO (installers that want a driver disc, multi-disc OSes).
  // A cloud image's seed rides last (cloud/seed-drive.ts), so the user's drives keep their ids.
  const drives = [config.cdrom, ...config.cdrom.extra, ...seedDrives(config)];
  drives.forEach((cd, i) => {
    const id = cdromId(i);
    const slot = cd.bus === 'ide' ? layout.ide(id, i === 0) : cd.bus === 'sata' ? layout.sata(id) : layout.scsi();
    const dev = [cd.bus === 'scsi' ? 'scsi-cd' : 'ide-cd', ...slot.props, `id=${id}`];
    if (cd.iso !== null) {
      args.push('-blockdev', `driver=file,node-name=${id}-file,filename=${esc(h.resolve(cd.iso))},read-only=on`);
      args.push('-blockdev', `driver=raw,node-name=${id}-media,file=${id}-file,read-only=on`);
      dev.push(`drive=${id}-media`);
    }
    dev.push(...bootProp(i === 0 ? 'cdrom' : `cdrom:${i}`));
    args.push('-device', dev.join(','));
  });
  // Controllers first: their devices refer to them by id.
  return [...layout.controllerArgs, ...args];
};
