import { resolve } from 'node:path';
import { Option } from 'commander';
import type { VmDetails } from '../../api/types.ts';
import { CACHE_MODES, DISK_BUSES } from '../../shared/config-enums.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo drive add|rm|resize|cd VM …`: a VM's disks and CD drives. A group of its own because
// `vireo disk` works on image files, not on a VM; a running VM gets virtio/SCSI disks hot-plugged.
// Paths are made absolute here: the engine serving the call may run in another folder.

const human = <T>(f: (r: T) => string) => f as (r: never) => string;

export function formatDrives(v: VmDetails): string {
  const disks = v.disks.map((d) => `${d.id}\t${d.bus}\t${d.format}\t${d.virtualSize ?? '?'} bytes\t${d.path}${d.error ? `\t(${d.error})` : ''}`);
  const cds = v.config ? [v.config.cdrom, ...v.config.cdrom.extra].map((c, i) => `cd${i}\t${c.bus}\t${c.iso ?? '(empty)'}`) : [];
  return [...disks, ...cds, ...v.warnings.map((w) => `note: ${w}`)].join('\n');
}

export const registerDrives: Registrar = (kit: CliKit) => {
  const drive = kit.program.command('drive').description("a VM's disks and CD drives (vireo disk works on image files)");
  const show = (r: VmDetails) => kit.print(r, human(formatDrives));
  drive
    .command('ls <vm>')
    .description('list the disks and CD drives')
    .action(kit.action(async (vm: string) => show(await kit.call('vms.get', { vm }))));
  drive
    .command('add <vm> [image]')
    .description('add an existing image, or a new one with --size; hot-plugged when the VM runs (virtio, scsi)')
    .option('--size <size>', 'a new image of this size in the VM folder (e.g. 20G)')
    .addOption(new Option('--format <format>', 'format of a new image').choices(['qcow2', 'raw']))
    .addOption(new Option('--bus <bus>', 'disk bus').choices([...DISK_BUSES]))
    .addOption(new Option('--cache <mode>', 'host cache mode').choices([...CACHE_MODES]))
    .option('--read-only', 'the guest cannot write it')
    .action(kit.action(async (vm: string, image: string | undefined, o: { size?: string; format?: 'qcow2' | 'raw'; bus?: (typeof DISK_BUSES)[number]; cache?: (typeof CACHE_MODES)[number]; readOnly?: boolean }) =>
      show(await kit.call('drives.add', { vm, ...(image ? { file: resolve(image) } : {}), ...(o.size ? { size: o.size } : {}), format: o.format, bus: o.bus, cache: o.cache, readOnly: o.readOnly }))));
  drive
    .command('rm <vm> <disk>')
    .description('remove a disk; say --keep-file or --delete-file (only images inside the VM folder are deleted)')
    .option('--keep-file', 'keep the image file')
    .option('--delete-file', 'delete the image file')
    .action(kit.action(async (vm: string, disk: string, o: { keepFile?: boolean; deleteFile?: boolean }) => {
      if (!!o.keepFile === !!o.deleteFile) {
        process.exitCode = 2;
        process.stderr.write('vireo drive rm: say what happens to the image: --keep-file or --delete-file\n');
        return;
      }
      show(await kit.call('drives.remove', { vm, disk, deleteFile: !!o.deleteFile }));
    }));
  drive
    .command('resize <vm> <disk> <size>')
    .description('grow a disk (live while running); shrinking needs the VM stopped and --shrink')
    .option('--shrink', 'allow a smaller size: data past the new end is lost')
    .action(kit.action(async (vm: string, disk: string, size: string, o: { shrink?: boolean }) => show(await kit.call('drives.resize', { vm, disk, size, shrink: o.shrink }))));
  drive
    .command('cd <vm> <drive> [iso]')
    .description('insert an ISO in CD drive N (0 is the first), or eject it without an ISO; live when running')
    .action(kit.action(async (vm: string, n: string, iso?: string) => show(await kit.call('drives.media', { vm, drive: kit.intArg(n), iso: iso ? resolve(iso) : null }))));
};
