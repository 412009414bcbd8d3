import { z } from 'zod';
import { event, method, type Caller, type MethodDef, type EventDef } from './define.ts';
import { Accel, VmName, VmRef } from './schemas/common.ts';
import { VmConfigPatch } from './schemas/vm-config.ts';
import { UnattendedAnswers } from './schemas/unattended.ts';
import type { UnattendedAvailability } from './unattended-types.ts';
import { CloudCreateArgs } from './schemas/cloud-init.ts';
import type { NetModeInfo, NicAddresses } from './net-types.ts';
import { BOOT_ONCE, CACHE_MODES, DISK_BUSES, MAX_EXTRA_CDROMS } from '../shared/config-enums.ts';
import type { HostUsbList, VmUsbDevice } from './usb-types.ts';
import { PortForward } from './schemas/vm-config.ts';
import { PORT_PROTOCOLS } from '../shared/config-enums.ts';
import type { ForwardsResult } from './types.ts';
import type { BootProblem } from './types.ts';
import { TYPE_TEXT_MAX } from '../shared/display-caps.ts';
import { SHARE_TYPES } from '../shared/config-enums.ts';
import { ARCHES, BACKENDS } from '../shared/config-enums.ts';
import type {
  AgentExecResult, AgentInfo, FileCopyResult,
  AccelReport, CheckResult, DetectResult, DisplaySession, FileEntry, HostInfo, ImageInfo, Job,
  OsEntry, SnapshotTree, VmDetails, VmState, VmSummary,
} from './types.ts';
import type { GuestToolsInfo, ShareMountResult, SharesList } from './types.ts';
import type { HostResources, LimitsInfo, OvercommitReport } from './limits-types.ts';
import type { HostStats, StatsWatch, VmStatsEvent, VmStatsHistory } from './types.ts';
import { hostMethods } from './hosts-contract.ts';
import type { BackupCatalog, BackupEntry, BackupPruneResult, BackupVerifyResult } from './backup-types.ts';
import { BackupId, BackupScheduleArgs } from './schemas/backup.ts';
import type { GroupList, GroupRunResult, LastUsedList, VmFace } from './library-types.ts';
import { GroupName, GroupRef } from './schemas/library.ts';
import { applianceMethods } from './schemas/appliance.ts';

// The one contract. Every transport (Electron IPC, WebSocket, in-process) is generated from
// this table, and every argument is parsed by its schema at the boundary. Adding a method here
// is the only way to add a method anywhere.

const vm = z.object({ vm: VmRef }).strict();
const SizeArg = z.union([z.string().min(1), z.number().positive()]);
const Path = z.string().min(1, 'path is empty: give a file path');
const NicId = z.string().regex(/^net[0-9]{1,2}$/, 'a NIC id is "net" and a number (net0, net1, ...)');

export const methods = {
  'host.info': method<HostInfo>()(z.object({ refresh: z.boolean().optional() }).strict(), 'Host, QEMU, accelerators, firmware and TPM support'),
  'host.selfTest': method<AccelReport>()(z.object({ force: z.boolean().optional(), arch: z.enum(ARCHES).optional() }).strict(), 'Run (or read the cached) accelerator self-test (for x86_64 guests unless arch says otherwise)'),

  'vms.list': method<VmSummary[]>()(z.object({}).strict(), 'All VMs in the library, broken ones included'),
  'vms.get': method<VmDetails>()(vm, 'One VM with its config, runtime state and disks'),
  'vms.create': method<VmDetails>()(
    z.object({
      name: VmName,
      iso: Path.nullable().optional(),
      /** an existing disk image to import (converted to qcow2 inside the VM folder) */
      importDisk: Path.optional(),
      /** a cloud image with a NoCloud seed (engine/cloud): imported like importDisk, resized to `disk` */
      cloud: CloudCreateArgs.optional(),
      os: z.string().optional(),
      cpus: z.number().int().optional(),
      memory: SizeArg.optional(),
      disk: SizeArg.optional(),
      accel: Accel.optional(),
      profile: z.enum(['modern', 'legacy']).optional(),
      firmware: z.enum(['bios', 'uefi']).optional(),
      secureBoot: z.boolean().optional(),
      tpm: z.boolean().optional(),
      /** guest architecture; by default the ISO's (OS detection), else x86_64 */
      arch: z.enum(ARCHES).optional(),
      /** an express install from the ISO with these answers (engine/unattended/; see unattended.availability) */
      unattended: UnattendedAnswers.optional(),
      /** which emulator runs it: "wasm/v86" makes a 32-bit PC run in the window (engine/backend/v86/create.ts); default qemu */
      backend: z.enum(BACKENDS).optional(),
      start: z.boolean().optional(),
    }).strict(),
    'Create a VM (a job with progress); optionally start it',
  ),
  'vms.update': method<VmDetails>()(z.object({ vm: VmRef, patch: VmConfigPatch }).strict(), 'Change settings; fields that need a stopped VM are refused while it runs'),
  'vms.delete': method<{ deleted: string; keptIn?: string }>()(
    z.object({ vm: VmRef, keepDisks: z.boolean().optional() }).strict(),
    'Delete a stopped VM; with keepDisks its disks, NVRAM and TPM state move to the folder returned as keptIn',
  ),
  'vms.start': method<VmDetails>()(
    z.object({ vm: VmRef, bootOnce: z.enum(BOOT_ONCE).optional(), overcommit: z.boolean().optional() }).strict(),
    'Start a VM; bootOnce "cdrom" boots from the CD this time only (the saved boot order stays); refused with OVERCOMMIT when the host\'s memory would not cover it, unless overcommit is true',
  ),
  'vms.stop': method<VmDetails>()(
    z.object({ vm: VmRef, force: z.boolean().optional(), timeoutSec: z.number().positive().max(3600).optional() }).strict(),
    'Shut down (ACPI, then quit, then kill) or power off (force)',
  ),
  'vms.saveState': method<VmDetails>()(vm, "Save state (suspend to disk): the running VM's memory and devices go to a file in its folder and QEMU ends; the VM is 'saved' until vms.start resumes it exactly (the file is then removed) or vms.discardState forgets it"),
  'vms.discardState': method<VmDetails>()(vm, "Forget a saved VM's state (its file is removed): the VM is stopped, as if powered off at the moment it was saved"),
  'vms.pause': method<VmDetails>()(vm, 'Pause a running VM'),
  'vms.resume': method<VmDetails>()(vm, 'Resume a paused VM'),
  'vms.reset': method<VmDetails>()(vm, 'Hard reset a running VM'),
  'vms.sendKeys': method<{ ok: true }>()(
    z.object({ vm: VmRef, keys: z.array(z.string().min(1)).min(1).max(8) }).strict(),
    'Press a key combination (QEMU qcodes, e.g. ["ctrl","alt","delete"])',
  ),
  'vms.setMemory': method<{ actualMiB: number }>()(z.object({ vm: VmRef, memoryMiB: z.number().int().positive() }).strict(), 'Balloon target while running'),
  'vms.changeMedia': method<VmDetails>()(z.object({ vm: VmRef, iso: Path.nullable() }).strict(), 'Insert or eject the CD-ROM'),
  'vms.screenshot': method<{ png: string }>()(vm, 'Screen as a base64 PNG'),
  'vms.bootProblem': method<BootProblem | null>()(vm, 'What the firmware shows when it found nothing to start (the UEFI shell, "No bootable device") and the firmware to switch to; null when it booted or is still trying'),
  'vms.clone': method<VmDetails>()(
    z.object({
      vm: VmRef,
      name: VmName,
      linked: z.boolean().optional(),
      fromSnapshot: z.string().min(1).max(200).optional(),
      /** a full clone that keeps the snapshot tree */
      withSnapshots: z.boolean().optional(),
      /** new from template: a linked clone of the template's current state (refused for a VM that is not one) */
      fromTemplate: z.boolean().optional(),
    }).strict(),
    "Full (optionally with the snapshot tree) or linked clone, of the current state or of a snapshot, or a new VM from a template (a job with progress); vms.get's clones says beforehand what is possible",
  ),
  'vms.stats': method<{ cpuPercent: number; rssBytes: number; balloonMiB: number | null }>()(vm, 'CPU and memory use of a running VM'),
  // ---- resources (engine/resources/): limits, overcommit, host meter ----
  'limits.get': method<LimitsInfo>()(vm, "A VM's CPU cap and disk limits, what this host can apply and why not, network limits per backend"),
  'limits.set': method<LimitsInfo>()(
    z.object({
      vm: VmRef,
      /** percent of one host CPU (100 = one CPU); null removes the cap */
      cpuPercent: z.number().int().min(1).max(100 * 1024).nullable().optional(),
      diskBytesPerSec: z.number().int().min(4096).max(2 ** 50).nullable().optional(),
      diskIops: z.number().int().min(1).max(10_000_000).nullable().optional(),
      /** per network card and direction (bridged and private cards) */
      netBytesPerSec: z.number().int().min(1000).max(2 ** 40).nullable().optional(),
    }).strict(),
    'Set limits (omitted ones stay; null removes one); a running VM gets them at once where it can (pending says what waits for the next start)',
  ),
  'vms.overcommit': method<OvercommitReport>()(vm, "Would starting this VM overcommit the host's memory or CPUs? The numbers and a warning per kind"),
  'host.resources': method<HostResources>()(z.object({}).strict(), "What the running VMs take of the host's memory and CPUs (the library's host meter)"),

  'snapshots.list': method<SnapshotTree>()(vm, 'The snapshot tree'),
  'snapshots.save': method<SnapshotTree>()(
    z.object({ vm: VmRef, name: z.string().trim().min(1).max(64), description: z.string().max(2000).optional() }).strict(),
    'Take a snapshot (live with RAM when running, offline when stopped)',
  ),
  'snapshots.restore': method<SnapshotTree>()(z.object({ vm: VmRef, snapshot: z.string().min(1) }).strict(), 'Restore a snapshot'),
  'snapshots.delete': method<SnapshotTree>()(z.object({ vm: VmRef, snapshot: z.string().min(1) }).strict(), 'Delete a snapshot; children stay restorable'),
  'snapshots.rename': method<SnapshotTree>()(
    z.object({ vm: VmRef, snapshot: z.string().min(1), name: z.string().trim().min(1).max(64).optional(), description: z.string().max(2000).optional() }).strict(),
    'Rename or describe a snapshot',
  ),
  'snapshots.thumbnail': method<{ png: string | null }>()(z.object({ vm: VmRef, snapshot: z.string().min(1) }).strict(), 'Snapshot thumbnail as base64 PNG'),

  'display.open': method<DisplaySession>()(vm, 'A token-protected WebSocket URL for the VM screen (VNC)'),
  'vms.typeText': method<{ typed: number }>()(
    z.object({ vm: VmRef, text: z.string().min(1, 'text is empty: give the text to type').max(TYPE_TEXT_MAX, `at most ${TYPE_TEXT_MAX} characters at once: split the text`) }).strict(),
    'Type a text into the guest as key presses of a US keyboard; characters without a key are refused, listed',
  ),
  'console.open': method<DisplaySession>()(vm, 'A token-protected WebSocket URL for the serial console'),

  'os.detect': method<DetectResult>()(z.object({ path: Path }).strict(), 'Detect the OS on an install ISO'),
  'os.list': method<OsEntry[]>()(z.object({ query: z.string().max(100).optional() }).strict(), 'Searchable OS list'),

  'disks.create': method<ImageInfo>()(z.object({ path: Path, size: SizeArg, format: z.enum(['qcow2', 'raw']).optional() }).strict(), 'Create a disk image'),
  'disks.info': method<ImageInfo>()(z.object({ path: Path }).strict(), 'Inspect a disk image'),
  'disks.resize': method<ImageInfo>()(z.object({ path: Path, size: SizeArg, shrink: z.boolean().optional() }).strict(), 'Resize a disk image'),
  'disks.convert': method<ImageInfo>()(z.object({ path: Path, output: Path }).strict(), 'Convert an image (vmdk, vdi, vhdx, raw) to qcow2 (a job)'),
  'disks.check': method<CheckResult>()(z.object({ path: Path }).strict(), 'Check an image for corruption'),

  'jobs.list': method<Job[]>()(z.object({}).strict(), 'Running and recent jobs'),
  'jobs.cancel': method<Job>()(z.object({ id: z.string().min(1) }).strict(), 'Cancel a running job'),

  'files.list': method<{ dir: string; parent: string | null; entries: FileEntry[] }>()(
    z.object({ dir: z.string().optional(), filter: z.enum(['iso', 'disk', 'any']).optional() }).strict(),
    'Browse host folders (for the web UI, which has no native file dialog)',
  ),

  // ---- guest agent: state, exec, files (electron/engine/agent/) ----
  'agent.status': method<AgentInfo>()(vm, "The VM's guest agent: absent (with why) or connected, version, OS, hostname, addresses"),
  'agent.exec': method<AgentExecResult>()(
    z.object({
      vm: VmRef,
      path: z.string().min(1, 'no command given: name the program to run in the guest').max(4096),
      args: z.array(z.string().max(65_536)).max(1024).optional(),
      /** stdin for the command, base64 (at most 1 MiB decoded) */
      input: z.string().max(1_400_000).optional(),
      env: z.array(z.string().max(65_536)).max(256).optional(),
      timeoutSec: z.number().positive().max(24 * 3600).optional(),
    }).strict(),
    'Run a program in the guest through its agent: exit code, stdout and stderr',
  ),
  'agent.copyIn': method<FileCopyResult>()(
    z.object({ vm: VmRef, hostPath: Path, guestPath: z.string().min(1).max(4096) }).strict(),
    'Copy a host file into the guest through its agent (a job with progress)',
  ),
  'agent.copyOut': method<FileCopyResult>()(
    z.object({ vm: VmRef, guestPath: z.string().min(1).max(4096), hostPath: Path }).strict(),
    'Copy a guest file to the host through its agent (a job with progress)',
  ),
  'agent.upload': method<FileCopyResult>()(
    z.object({
      vm: VmRef,
      guestPath: z.string().min(1).max(4096),
      /** where this chunk goes: 0 creates (truncates) the file, else it must be the bytes sent so far */
      offset: z.number().int().min(0),
      /** base64, at most 1 MiB decoded per call */
      data: z.string().max(1_400_000),
    }).strict(),
    "Write a chunk of a client's file (a file dropped on the screen) into the guest through its agent",
  ),

  // ---- throwaway VMs: vireo run --rm (electron/engine/vm/disposable.ts) ----
  'disposables.create': method<VmDetails>()(
    z.object({
      from: VmRef,
      /** a snapshot of the base (id or unique name): the run starts from a copy of it */
      snapshot: z.string().min(1).max(200).optional(),
      name: VmName.optional(),
      /** the host process whose life the VM lasts; an engine removes it once that process is gone. Absent: kept until discarded */
      ownerPid: z.number().int().positive().optional(),
      start: z.boolean().optional(),
    }).strict(),
    "A throwaway VM from a base: qcow2 overlays on the base's disks (base stopped), or a copy of one of its snapshots",
  ),
  'disposables.discard': method<{ deleted: string }>()(vm, 'Power a throwaway VM off and delete it with its files (refused for a normal VM)'),
  'disposables.sweep': method<{ removed: string[] }>()(z.object({}).strict(), 'Remove the throwaway VMs whose owner process is gone'),

  // ---- shared folders and guest tools (electron/engine/shares/) ----
  'shares.list': method<SharesList>()(vm, "A VM's shared folders, each with its availability and the guest-side mount command"),
  'shares.add': method<SharesList>()(
    z.object({
      vm: VmRef,
      path: Path,
      /** what the guest mounts by; the folder's name made safe when absent */
      tag: z.string().min(1).max(31).optional(),
      readOnly: z.boolean().optional(),
      type: z.enum(SHARE_TYPES).optional(),
    }).strict(),
    'Share a host folder with a stopped VM (9p by default)',
  ),
  'shares.remove': method<SharesList>()(z.object({ vm: VmRef, tag: z.string().min(1).max(31) }).strict(), 'Stop sharing a folder (VM stopped)'),
  'shares.mount': method<{ results: ShareMountResult[] }>()(
    z.object({ vm: VmRef, tag: z.string().min(1).max(31).optional(), mountPoint: z.string().regex(/^\/[A-Za-z0-9_./-]{0,200}$/).optional() }).strict(),
    "Mount a share (or every share) inside a running Linux guest through its guest agent",
  ),
  'guestTools.list': method<GuestToolsInfo>()(z.object({}).strict(), 'virtio-win / SPICE guest tools found on this host, or where to get them'),
  'guestTools.attach': method<VmDetails>()(z.object({ vm: VmRef, path: Path }).strict(), "Insert a found guest-tools ISO in the VM's CD drive"),
  // ---- NAT port forwards, live while the VM runs (electron/engine/net/nat/) ----
  'forwards.list': method<ForwardsResult>()(vm, "The VM's NAT cards: backend (passt or slirp) and why, and their port forwards"),
  'forwards.add': method<ForwardsResult>()(
    z.object({ vm: VmRef, nic: NicId.optional(), forward: PortForward }).strict(),
    'Add a port forward to a NAT card (the first one unless nic is given), at once if the VM runs, and save it; a taken host port is refused naming its holder',
  ),
  'forwards.remove': method<ForwardsResult>()(
    z.object({ vm: VmRef, nic: NicId.optional(), protocol: z.enum(PORT_PROTOCOLS).default('tcp'), hostAddress: z.string().default('127.0.0.1'), hostPort: z.number().int().min(1).max(65535) }).strict(),
    'Remove a port forward (by protocol, host address and port), at once if the VM runs, and save it',
  ),

  // ---- USB devices and a VM's drives (electron/engine/usb/, electron/engine/vm/drives.ts) ----
  'usb.list': method<HostUsbList>()(z.object({}).strict(), "The host's USB devices with names, whether this user may pass each through (and the fix), and which VMs use them"),
  'usb.devices': method<VmUsbDevice[]>()(vm, "A VM's USB devices, saved and attached for this run, and whether QEMU has each now"),
  'usb.attach': method<VmUsbDevice[]>()(
    z.object({
      vm: VmRef,
      /** "vendor:product" (046d:c52b), "bus-port" (1-2.3), "keyboard", "mouse", or an image file for a USB stick */
      device: z.string().trim().min(1, 'no device given: vendor:product, bus-port, keyboard, mouse or an image file').max(4096),
      /** saved with the VM (default), or for this run only */
      persist: z.boolean().optional(),
      readOnly: z.boolean().optional(),
    }).strict(),
    'Attach a USB device: live when the VM runs (device_add), saved for its next starts unless persist is false',
  ),
  'usb.detach': method<VmUsbDevice[]>()(
    z.object({ vm: VmRef, device: z.string().trim().min(1).max(4096) }).strict(),
    'Detach a USB device (by id, vendor:product, bus-port, kind or image file): live when running, and from the saved list',
  ),
  'drives.add': method<VmDetails>()(
    z.object({
      vm: VmRef,
      /** an existing image, or */
      file: Path.optional(),
      /** the size of a new image in the VM's folder */
      size: SizeArg.optional(),
      format: z.enum(['qcow2', 'raw']).optional(),
      bus: z.enum(DISK_BUSES).optional(),
      cache: z.enum(CACHE_MODES).optional(),
      readOnly: z.boolean().optional(),
    }).strict(),
    'Add a disk (new or existing image); hot-plugged when the VM runs and the bus allows it (virtio, SCSI)',
  ),
  'drives.remove': method<VmDetails>()(
    z.object({ vm: VmRef, disk: z.string().min(1).max(64), deleteFile: z.boolean({ error: 'say whether to delete the image file (deleteFile: true) or keep it (false)' }) }).strict(),
    'Remove a disk (hot-unplugged when running), keeping or deleting its image',
  ),
  'drives.resize': method<VmDetails>()(
    z.object({ vm: VmRef, disk: z.string().min(1).max(64), size: SizeArg, shrink: z.boolean().optional() }).strict(),
    'Resize a disk: grow live while running; shrink only stopped and with shrink: true',
  ),
  'drives.media': method<VmDetails>()(
    z.object({ vm: VmRef, drive: z.number().int().min(0).max(MAX_EXTRA_CDROMS), iso: Path.nullable() }).strict(),
    'Insert or eject the ISO of CD drive N (0 is the first), live when running',
  ),
  // ---- express install (engine/unattended/) ----
  'unattended.availability': method<UnattendedAvailability>()(
    z.object({ os: z.string().min(1, 'no OS given: an OS id like debian12 or win11').max(64) }).strict(),
    'Whether an express (unattended) install is offered for an OS on this host, through which installer, and why not',
  ),
  // ---- network modes (engine/net/handlers.ts) ----
  'net.link': method<{ nic: string; up: boolean }>()(
    z.object({ vm: VmRef, nic: z.string().regex(/^net[0-9]{1,2}$/, 'a NIC id is "net" and a number (net0, net1, ...)'), up: z.boolean() }).strict(),
    "Plug or unplug a running VM's network cable (QMP set_link; lasts until the VM stops)",
  ),
  'net.addresses': method<NicAddresses[]>()(vm, "The guest's addresses per card: from the guest agent, else what the network backend knows"),
  'net.modes': method<{ modes: NetModeInfo[]; bridges: string[] }>()(
    z.object({ bridge: z.string().max(64).optional() }).strict(),
    'Which network modes this host offers, how, and why not; the host bridges for bridged cards',
  ),
  // ---- live stats (engine/stats/): sampled only while a watch lease is alive ----
  'stats.watch': method<StatsWatch>()(
    z.object({ vm: VmRef.optional(), watchId: z.string().uuid().optional() }).strict(),
    'Watch a VM (or, without vm, every running VM): stats.sample events at 1 Hz while the lease lives; renew it with its watchId before leaseMs passes',
  ),
  'stats.unwatch': method<{ watching: number }>()(z.object({ watchId: z.string().min(1).max(64) }).strict(), 'End a stats watch; with none left the sampler stops'),
  'stats.history': method<VmStatsHistory>()(vm, "A VM's kept samples (the last 10 minutes it was watched), oldest first, with why figures are missing"),
  'stats.host': method<HostStats>()(z.object({}).strict(), "The host's CPUs and memory, every VM's newest sample, and what the sampler costs (it samples only while watched)"),
  // ---- the library: groups, faces, last use (electron/engine/library/) ----
  'groups.list': method<GroupList>()(z.object({}).strict(), "The library's groups (folders) and the VMs in each"),
  'groups.create': method<GroupList>()(z.object({ name: GroupName }).strict(), 'Create an empty group'),
  'groups.rename': method<GroupList>()(z.object({ group: GroupRef, name: GroupName }).strict(), 'Rename a group'),
  'groups.delete': method<GroupList>()(z.object({ group: GroupRef }).strict(), 'Delete a group; its VMs stay, in no group'),
  'groups.move': method<GroupList>()(z.object({ vm: VmRef, group: GroupRef.nullable() }).strict(), 'Move a VM into a group (out of any other), or into none with group null'),
  'groups.start': method<GroupRunResult>()(z.object({ group: GroupRef }).strict(), "Start a group's stopped VMs one after another (templates skipped); the outcome per VM"),
  'groups.stop': method<GroupRunResult>()(z.object({ group: GroupRef, force: z.boolean().optional() }).strict(), "Shut down (or with force power off) a group's running VMs together; the outcome per VM"),
  'vms.face': method<VmFace>()(vm, "A small thumbnail of the VM's screen: taken now while it runs (and kept), else the one kept from its last run"),
  'vms.lastUsed': method<LastUsedList>()(z.object({}).strict(), 'When each VM last ran (now for an active one), for sorting the library'),
  // ---- backups (engine/backup/): full and incremental, catalog, verify, restore, retention ----
  'backup.run': method<BackupEntry>()(
    z.object({ vm: VmRef, to: Path.optional(), incremental: z.boolean().optional() }).strict(),
    "Back up a VM's disks (running or stopped; a job) into <to>/<vm id>/ (default: the folder last used); incremental builds on the newest good backup when the disks' change records allow, else it is full and says why",
  ),
  'backup.list': method<BackupCatalog>()(vm, "A VM's backup catalog (newest first: time, type, size, chain, state), its folder and schedule"),
  'backup.verify': method<BackupVerifyResult>()(z.object({ vm: VmRef, backup: BackupId.optional() }).strict(), 'Check every file of a backup chain, restore it to a temp copy and qemu-img compare them (default: the newest good backup)'),
  'backup.restore': method<VmDetails>()(
    z.object({ vm: VmRef, backup: BackupId.optional(), newName: VmName.optional() }).strict(),
    'Restore a backup (default: the newest good one): to a new VM named newName, else in place over the VM\'s disks (it must be stopped)',
  ),
  'backup.prune': method<BackupPruneResult>()(
    z.object({ vm: VmRef, daily: z.number().int().min(0).max(366), weekly: z.number().int().min(0).max(520) }).strict().refine((k) => k.daily + k.weekly > 0, 'keep at least one daily or weekly backup (daily + weekly > 0)'),
    'Delete backups beyond the newest per day for `daily` days and per week for `weekly` weeks (a kept incremental keeps its chain)',
  ),
  'backup.schedule': method<BackupCatalog>()(
    z.object({ vm: VmRef, to: Path.optional(), schedule: BackupScheduleArgs.nullable() }).strict(),
    'Set (or with null clear) scheduled backups of a VM, taken while the engine runs',
  ),
  // ---- appliances: OVA/OVF, VirtualBox machines, Vireo bundles (engine/appliance/) ----
  ...applianceMethods,
  // ---- remote libvirt hosts (engine/remote/, hosts-contract.ts) ----
  ...hostMethods,
} satisfies Record<string, MethodDef>;

export const events = {
  'vm.state': event<{ id: string; state: VmState; previous: VmState; reason?: string }>('A VM changed state'),
  'vm.changed': event<{ id: string; removed?: boolean }>('A VM was created, changed or deleted'),
  'stats.sample': event<VmStatsEvent>("A watched VM's newest sample (1 Hz while a stats watch lives)"),
  'snapshots.changed': event<{ vmId: string }>('A VM snapshot tree changed'),
  'job.update': event<Job>('A job started, progressed or ended'),
  'groups.changed': event<Record<string, never>>('The library\'s groups changed (groups.list has them)'),
  'shell.command': event<{
    command: 'new-vm' | 'open-iso' | 'import-disk' | 'settings' | 'host-info' | 'about' | 'open-file' | 'show-vm';
    path?: string;
    kind?: 'iso' | 'disk';
    vmId?: string;
  }>('The desktop shell asks the UI to do something (menu item, dropped file, tray)'),
} satisfies Record<string, EventDef>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type Args<M extends MethodName> = z.input<Methods[M]['args']>;
export type ParsedArgs<M extends MethodName> = z.output<Methods[M]['args']>;
export type Result<M extends MethodName> = Methods[M]['result'];
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = Events[E]['payload'];

export const METHOD_NAMES = Object.keys(methods) as MethodName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export const isMethodName = (s: unknown): s is MethodName => typeof s === 'string' && Object.hasOwn(methods, s);
export const isEventName = (s: unknown): s is EventName => typeof s === 'string' && Object.hasOwn(events, s);

/** Handlers implement the contract; the engine provides them. */
export type Handlers = { [M in MethodName]: (args: ParsedArgs<M>, caller: Caller) => Promise<Result<M>> };

/** What every transport's client looks like to its caller (renderer, CLI, tests). */
export interface ApiClient {
  call<M extends MethodName>(method: M, args: Args<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}
