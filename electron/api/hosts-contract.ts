import { z } from 'zod';
import { method } from './define.ts';
import type { DisplaySession } from './types.ts';
import type { RemoteDomain, RemoteDomainDetails, RemoteHostStatus, RemoteSnapshot, VmMoveResult, VmOfflineMoveResult } from './host-types.ts';
import { DomainName, HostRef, LibvirtUri, RemoteCreate, SnapshotName, VmRef } from './schemas/hosts.ts';

// Remote hosts (issue 24, engine/remote/): libvirt hosts by URI, their domains, snapshots,
// screen, and VMs created on them from the wizard's config. Spread into contract.ts's methods.

const dom = { host: HostRef, domain: DomainName };

export const hostMethods = {
  'hosts.list': method<RemoteHostStatus[]>()(z.object({}).strict(), "The library's libvirt hosts, each with whether it answers now and why not"),
  'hosts.add': method<RemoteHostStatus>()(
    z.object({ name: z.string().min(1).max(64), uri: LibvirtUri, secret: z.string().min(1).max(200).optional() }).strict(),
    "Add a libvirt host by URI (qemu:///session, qemu+ssh://user@host/system, qemu+tls://host/system), or a Vireo host (vireo://addr:port, another machine's `vireo serve`) with the pairing secret it printed; refused when it does not answer or the secret is wrong",
  ),
  'hosts.remove': method<{ removed: string }>()(z.object({ host: HostRef }).strict(), 'Forget a host (its domains stay on it)'),
  'hosts.domains': method<RemoteDomain[]>()(z.object({ host: HostRef }).strict(), "A host's domains with their state"),
  'hosts.domain': method<RemoteDomainDetails>()(z.object(dom).strict(), 'One domain: state, its config read back from its XML, its snapshots'),
  'hosts.control': method<RemoteDomainDetails>()(
    z.object({ ...dom, action: z.enum(['start', 'shutdown', 'poweroff', 'pause', 'resume', 'reboot']) }).strict(),
    'Start, shut down (ACPI), power off, pause, resume or reboot a domain',
  ),
  'hosts.snapshot': method<RemoteSnapshot[]>()(
    z.object({ ...dom, op: z.enum(['save', 'restore', 'delete']), name: SnapshotName, description: z.string().max(1000).optional() }).strict(),
    "Save, restore or delete a domain's snapshot (libvirt's snapshot-create-as / -revert / -delete); the snapshots after",
  ),
  'hosts.create': method<RemoteDomainDetails>()(RemoteCreate, "Create a VM on a host from the wizard's answers: Vireo's config as domain XML, the disk a volume of the host's pool, the ISO uploaded (a job)"),
  'hosts.undefine': method<{ removed: string }>()(z.object({ ...dom, removeStorage: z.boolean().optional() }).strict(), 'Remove a stopped domain (and with removeStorage its volumes)'),
  'hosts.display': method<DisplaySession>()(z.object(dom).strict(), "A domain's screen through the display bridge (libvirt's VNC unix socket: on this machine, or on a qemu+ssh:// host carried over ssh; never a TCP port)"),
  'hosts.console': method<DisplaySession>()(z.object(dom).strict(), "A running domain's serial console through the display bridge (its serial's unix socket, as Vireo-made domains have it: on this machine, or on a qemu+ssh:// host carried over ssh; a pty serial is refused with the reason)"),
  'hosts.migrate': method<RemoteDomainDetails>()(
    z.object({
      ...dom,
      to: HostRef,
      /** the address the source's QEMU reaches the target on; by default the target URI's host name */
      address: z.string().min(1).max(255).regex(/^[A-Za-z0-9.:[\]-]+$/, 'address: a host name or IP address').optional(),
      pool: z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).optional(),
      bandwidthMiB: z.number().int().min(1).max(100_000).optional(),
    }).strict(),
    "Live-migrate a running domain with its disks to another libvirt host (virsh migrate --live --copy-storage-all, a job with progress; cancel leaves it running on the source); the domain as it runs on the target",
  ),
  'vms.migrate': method<VmMoveResult>()(
    z.object({ vm: VmRef, to: HostRef, bandwidthMiB: z.number().int().min(1).max(100_000).optional() }).strict(),
    "Move a running VM of this library live to a paired Vireo host: its disks mirrored and its RAM migrated over TLS-PSK, its UEFI variables and TPM state with the RAM (a job; cancel leaves it running here); afterwards it runs there and is gone from this library. Refused, with the reasons, when it has snapshots, shared folders, passthrough devices or files of this machine, or the target's QEMU, machine type, CPU, accelerator, swtpm or UEFI firmware differ",
  ),
  'vms.move': method<VmOfflineMoveResult>()(
    z.object({ vm: VmRef, to: HostRef, copy: z.boolean().optional(), start: z.boolean().optional() }).strict(),
    'Move (or with copy, copy) a stopped VM of this library to a host, offline, with its disks, snapshots, NVRAM and TPM state (a job); a move removes it here afterwards. Vireo hosts take everything; libvirt hosts take its UEFI variables and its snapshots as disk states (their saved RAM stays here), not yet TPM state. With start it is started there',
  ),
  'hosts.domainXml': method<{ xml: string; dropped: string[] }>()(
    z.object({ vm: VmRef, domainType: z.enum(['kvm', 'qemu']).optional(), storageDir: z.string().min(1).max(1024).optional() }).strict(),
    "A library VM's config as libvirt domain XML (what a host would be given), and what it cannot carry",
  ),
};
