import { isAbsolute, resolve } from 'node:path';
import type { Nic, PortForward } from '../../api/schemas/vm-config.ts';
import type { CloudCreateArgs } from '../../api/schemas/cloud-init.ts';
import { parseSize } from '../../shared/size.ts';
import type { ParsedVmFile } from './parse.ts';
import type { FileNic, FileShare, FileVm } from './schema.ts';

// What the file asks for, per VM, in the engine API's own terms: pure, so it is unit-tested
// without an engine, and up.ts only sends it.
//
// How a VM is tied to its file: by name, "<project>-<key>" (project: the file's `project:`,
// else its folder's name). A name rather than a marker in vm.json because the name is what a
// script types next (`vireo exec myapp-web -- make test`), it shows in every list, the GUI and
// `vireo ls`, it needs no config field that every other tool would have to carry, and it
// survives moving the file. The library refuses two VMs with one name, so one name is one VM.
// A VM of that name made by hand is taken as the file's (`up` starts it, creates nothing).

export interface VmPlan {
  key: string;
  /** the library name */
  name: string;
  spec: FileVm;
  /** how to make it: the API method and its arguments */
  create:
    | { method: 'vms.clone'; args: { vm: string; name: string; linked: true; fromSnapshot?: string } }
    | { method: 'disposables.create'; args: { from: string; name: string; snapshot?: string } }
    | { method: 'vms.create'; args: { name: string; iso?: string; importDisk?: string; cloud?: CloudCreateArgs; cpus?: number; memory?: string | number; disk?: string | number } };
  /** a settings patch applied right after a clone or throwaway (they keep their base's resources) */
  patch: Record<string, unknown> | null;
  /** grow disk0 to this many bytes after a clone, throwaway or import (they keep their image's size) */
  growDiskTo: number | null;
  shares: Array<{ path: string; tag?: string; readOnly: boolean; type: FileShare['type'] }>;
}

export const vmName = (project: string, key: string) => `${project}-${key}`;

export function planFile(f: ParsedVmFile): VmPlan[] {
  return Object.entries(f.spec.vms).map(([key, spec]) => planVm(f, key, spec));
}

function planVm(f: ParsedVmFile, key: string, spec: FileVm): VmPlan {
  const name = vmName(f.project, key);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(f.dir, p));
  const memoryMiB = spec.memory !== undefined ? Math.round(parseSize(spec.memory, 'M') / 1024 ** 2) : undefined;
  const resources = { ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}), ...(spec.memory !== undefined ? { memory: spec.memory } : {}) };
  const b = spec.base;
  // A disposable VM from a library VM is a throwaway (engine/vm/disposable.ts): overlays on
  // the base's disks as they are, marked in vm.json. A linked clone would turn the base's disk
  // into one more read-only layer on every up/down cycle of a CI job; a kept VM is made once,
  // so it is a linked clone, independent of the base's later life.
  const create: VmPlan['create'] = b.vm !== undefined && spec.disposable
    ? { method: 'disposables.create', args: { from: b.vm, name, ...(b.snapshot ? { snapshot: b.snapshot } : {}) } }
    : b.vm !== undefined
    ? { method: 'vms.clone', args: { vm: b.vm, name, linked: true, ...(b.snapshot ? { fromSnapshot: b.snapshot } : {}) } }
    : b.image !== undefined
      ? { method: 'vms.create', args: { name, importDisk: at(b.image), ...resources } }
    : b.cloud !== undefined
      ? { method: 'vms.create', args: { name, cloud: { ...b.cloud, image: at(b.cloud.image) }, ...resources, ...(spec.disk !== undefined ? { disk: spec.disk } : {}) } }
      : { method: 'vms.create', args: { name, iso: at(b.iso!), ...resources, ...(spec.disk !== undefined ? { disk: spec.disk } : {}) } };
  const system = b.vm !== undefined ? { ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}), ...(memoryMiB !== undefined ? { memoryMiB } : {}) } : {};
  const patch = Object.keys(system).length ? { system } : null;
  return {
    key,
    name,
    spec,
    create,
    patch,
    // an ISO install and a cloud image get their disk size at creation
    growDiskTo: b.iso === undefined && b.cloud === undefined && spec.disk !== undefined ? parseSize(spec.disk, 'G') : null,
    shares: spec.shares.map((s) => ({ path: at(s.path), ...(s.tag ? { tag: s.tag } : {}), readOnly: s.readOnly, type: s.type })),
  };
}

/**
 * The VM's cards as the file wants them, keeping the MAC (and model) of each card that stays
 * at its place, so a guest's network setup tied to a MAC survives; new cards get `newMac` and
 * the first card's model (the model the base guest has a driver for).
 */
export function nicsFor(wanted: FileNic[], current: Nic[], newMac: (taken: Set<string>) => string): Array<Record<string, unknown>> {
  const taken = new Set(current.map((n) => n.mac));
  return wanted.map((w, i) => {
    const keep = current[i];
    const mac = keep?.mac ?? newMac(taken);
    taken.add(mac);
    const nic: Record<string, unknown> = { id: `net${i}`, mode: w.mode, mac, model: w.model ?? keep?.model ?? current[0]?.model ?? 'virtio-net-pci', portForwards: w.forwards satisfies PortForward[] };
    if (w.network) nic.network = w.network;
    if (w.bridge) nic.bridge = w.bridge;
    return nic;
  });
}

/** A provisioning step as agent.exec takes it: a shell line runs under sh -c. */
export function stepCommand(step: string | string[]): { path: string; args: string[]; shown: string } {
  if (typeof step === 'string') return { path: 'sh', args: ['-c', step], shown: step };
  const [path, ...args] = step;
  return { path: path!, args, shown: step.join(' ') };
}
