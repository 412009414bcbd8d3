import { z } from 'zod';
import { MAX_NICS, MAX_SHARES, NIC_MODES, PORT_PROTOCOLS, PRIVATE_NET_NAME_RE, SHARE_TYPES } from '../../shared/config-enums.ts';
import { readSize } from '../../shared/size.ts';
import { NicModel, PortForward, SHARE_TAG_RE } from '../../api/schemas/vm-config.ts';
import { CloudCreateArgs } from '../../api/schemas/cloud-init.ts';

// The VM file (vireo.yaml): a set of VMs a script brings up and down together (`vireo up`,
// `vireo status`, `vireo down`). Its pieces are the config's own where they fit (port
// forwards, NIC models, share tags, the size grammar), so a value the file accepts is one
// vm.json accepts. Messages say what is expected: parse.ts prefixes them with the file, line
// and field path ("vireo.yaml:7 vms.web.memory: expected a size like 512M or 2G").

/** A VM's key in the file; the library name is "<project>-<key>" (plan.ts says why). */
export const VM_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$/;
export const PROJECT_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

const Size = z
  .union([z.string(), z.number()], { error: 'expected a size like 512M or 2G' })
  .refine((v) => !('error' in readSize(v)), { error: 'expected a size like 512M or 2G' });

const Port = z.number({ error: 'expected a port number (1-65535)' }).int({ error: 'expected a port number (1-65535)' }).min(1, 'expected a port number (1-65535)').max(65535, 'expected a port number (1-65535)');

/** "8080:80" or "5353:53/udp": host port, guest port, protocol (tcp by default). */
const FORWARD_RE = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/;
const FORWARD_HINT = 'expected a forward like "8080:80" (host port:guest port, "/udp" for UDP) or {hostPort: 8080, guestPort: 80}';
// The short form is turned into the config's own PortForward shape before it is checked, so
// both forms meet the same rules (and "99999:80" is told its port is out of range).
const Forward = z.preprocess(
  (v) => {
    const m = typeof v === 'string' ? FORWARD_RE.exec(v) : null;
    return m ? { hostPort: Number(m[1]), guestPort: Number(m[2]), protocol: m[3] ?? 'tcp' } : v;
  },
  z.strictObject({ ...PortForward.shape, hostPort: Port, guestPort: Port, protocol: z.enum(PORT_PROTOCOLS, { error: 'expected tcp or udp' }).default('tcp') }, { error: FORWARD_HINT }),
);

export const FileForward = Forward;

export const FileNic = z
  .object({
    mode: z.enum(NIC_MODES, { error: `expected one of ${NIC_MODES.join(', ')}` }).default('user'),
    model: NicModel.optional(),
    /** mode user (NAT): host → guest port forwards */
    forwards: z.array(Forward, { error: 'expected a list of forwards like ["8080:80"]' }).default([]),
    /** mode private: the network's name */
    network: z.string().regex(PRIVATE_NET_NAME_RE, 'expected a network name: 1-32 letters, digits, ".", "_" or "-"').optional(),
    /** mode bridged: the host bridge */
    bridge: z.string().min(1).max(64).optional(),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (n.mode === 'private' && !n.network) ctx.addIssue({ code: 'custom', path: ['network'], message: 'a private card needs network: the name VMs on one network share, e.g. intnet' });
    if (n.mode === 'bridged' && !n.bridge) ctx.addIssue({ code: 'custom', path: ['bridge'], message: 'a bridged card needs bridge: the host bridge, e.g. br0' });
    if (n.forwards.length && n.mode !== 'user' && n.mode !== 'hostonly') ctx.addIssue({ code: 'custom', path: ['forwards'], message: `forwards need a NAT (user) or host-only card, not ${n.mode}` });
  });
export type FileNic = z.infer<typeof FileNic>;

export const FileShare = z
  .object({
    /** a host folder, absolute or relative to the file's folder */
    path: z.string({ error: 'expected a folder path (absolute, or relative to the file)' }).min(1, 'expected a folder path (absolute, or relative to the file)'),
    tag: z.string().regex(SHARE_TAG_RE, 'expected a tag of 1-31 letters, digits, "_", "." or "-"').optional(),
    readOnly: z.boolean({ error: 'expected true or false' }).default(false),
    type: z.enum(SHARE_TYPES, { error: `expected one of ${SHARE_TYPES.join(', ')}` }).default('9p'),
  })
  .strict();
export type FileShare = z.infer<typeof FileShare>;

const BASE_HINT = 'expected a base: {vm: NAME} (a library VM to clone), {image: FILE} (a disk image), {cloud: {image: FILE, ...}} (a cloud image with a NoCloud seed) or {iso: FILE}';
const BASE_KINDS = ['vm', 'image', 'cloud', 'iso'] as const;
export const FileBase = z
  .object(
    {
      vm: z.string().min(1).max(256).optional(),
      /** with vm: clone the state of this snapshot */
      snapshot: z.string().min(1).optional(),
      image: z.string().min(1).optional(),
      /** vms.create's own cloud option: the image (relative to the file) and the seed's user, keys, host name, user-data */
      cloud: CloudCreateArgs.extend({ image: z.string({ error: 'expected the cloud image file (qcow2, raw or vmdk)' }).min(1, 'expected the cloud image file (qcow2, raw or vmdk)') }).strict().optional(),
      iso: z.string().min(1).optional(),
    },
    { error: BASE_HINT },
  )
  .strict()
  .superRefine((b, ctx) => {
    const given = BASE_KINDS.filter((k) => b[k] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: 'custom', message: given.length ? `give one of ${BASE_KINDS.join(', ')}, not ${given.join(' and ')}` : BASE_HINT });
    if (b.snapshot !== undefined && b.vm === undefined) ctx.addIssue({ code: 'custom', path: ['snapshot'], message: 'snapshot goes with base.vm (the VM whose snapshot is cloned)' });
  });
export type FileBase = z.infer<typeof FileBase>;

/** A provisioning step: a shell line (run by sh -c) or a program and its arguments. */
const Step = z.union([z.string().min(1), z.array(z.string()).min(1)], { error: 'expected a command: a shell line, or a list [program, arg, ...]' });

export const FileVm = z
  .object(
    {
      base: FileBase,
      cpus: z.number({ error: 'expected a whole number of CPUs (1-512)' }).int({ error: 'expected a whole number of CPUs (1-512)' }).min(1, 'expected a whole number of CPUs (1-512)').max(512, 'expected a whole number of CPUs (1-512)').optional(),
      memory: Size.optional(),
      disk: Size.optional(),
      nics: z.array(FileNic, { error: 'expected a list of network cards' }).max(MAX_NICS, `at most ${MAX_NICS} network cards`).optional(),
      shares: z.array(FileShare, { error: 'expected a list of shared folders' }).max(MAX_SHARES, `at most ${MAX_SHARES} shared folders`).default([]),
      /** run in order through the guest agent once it answers; the first failure stops the rest */
      provision: z.array(Step, { error: 'expected a list of commands' }).default([]),
      /** seconds each provisioning command may run (default 600) */
      provisionTimeout: z.number({ error: 'expected seconds' }).positive('expected seconds').max(24 * 3600).default(600),
      /** removed (VM, disks, processes) by `vireo down` */
      disposable: z.boolean({ error: 'expected true or false' }).default(false),
    },
    { error: 'expected a VM: {base: ..., memory: ..., ...}' },
  )
  .strict();
export type FileVm = z.infer<typeof FileVm>;

export const VmFileSchema = z
  .object(
    {
      /** the name prefix of the file's VMs; default: the file's folder name */
      project: z.string().regex(PROJECT_RE, 'expected a project name: 1-32 letters, digits, ".", "_" or "-", starting with a letter or digit').optional(),
      vms: z
        .record(z.string().regex(VM_KEY_RE, 'expected a VM key of 1-31 letters, digits, "_" or "-"'), FileVm, { error: 'expected vms: a map of VM names to VMs' })
        .refine((r) => Object.keys(r).length > 0, 'expected at least one VM'),
    },
    { error: 'expected a map with vms: at the top' },
  )
  .strict();
export type VmFile = z.infer<typeof VmFileSchema>;
