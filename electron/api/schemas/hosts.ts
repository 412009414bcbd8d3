import { z } from 'zod';
import { VmName, VmRef } from './common.ts';

const hasControl = (s: string) => [...s].some((c) => c < ' ' || c === '\x7f');

// Arguments of the remote-host methods (engine/remote/).

export const HostRef = z.string().min(1, 'host is empty: give a host name or id (vireo host ls)').max(128);
/** libvirt domain names: no "/" and no control characters (libvirt's own rule is looser) */
export const DomainName = z
  .string()
  .min(1, 'domain is empty: give a libvirt domain name')
  .max(200)
  .refine((s) => !s.includes('/') && !hasControl(s), 'domain name contains "/" or control characters');
export const LibvirtUri = z
  .string()
  .min(1, 'URI is empty: give a libvirt URI like qemu:///session or qemu+ssh://user@host/system')
  .max(1024)
  .refine((s) => !s.includes(' ') && !hasControl(s), 'URI contains spaces or control characters');
export const SnapshotName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:-]*$/, 'snapshot name: letters, digits, spaces, ".", "_", ":" or "-", starting with a letter or digit');

const Size = z.union([z.string().min(1), z.number().positive()]);

export const RemoteCreate = z
  .object({
    host: HostRef,
    name: VmName,
    /** an ISO on this machine, uploaded into the host's pool */
    iso: z.string().min(1).optional(),
    os: z.string().optional(),
    cpus: z.number().int().min(1).max(512).optional(),
    memory: Size.optional(),
    disk: Size.optional(),
    accel: z.enum(['auto', 'kvm', 'tcg']).optional(),
    profile: z.enum(['modern', 'legacy']).optional(),
    firmware: z.enum(['bios', 'uefi']).optional(),
    secureBoot: z.boolean().optional(),
    tpm: z.boolean().optional(),
    /** the host's storage pool for the disk and ISO; "default" unless given */
    pool: z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'pool name: letters, digits, ".", "_" or "-"').optional(),
    start: z.boolean().optional(),
  })
  .strict();

export { VmRef };
