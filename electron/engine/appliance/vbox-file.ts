import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { VirtualBoxLibrary } from '../../api/appliance-types.ts';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { child, parseXml } from './xml.ts';
import { emptySpec, type ApplianceSpec } from './spec.ts';
import { applyVboxMachine } from './vbox-machine.ts';

// A machine of a VirtualBox library (`~/VirtualBox VMs/<name>/<name>.vbox`, VirtualBox's
// settings XML): the same <Machine> element an OVA carries, whose disks (VDI, VMDK, VHD) are
// files next to it, named in its media registry. Imported by converting them to qcow2.

export async function readVboxFile(path: string): Promise<{ spec: ApplianceSpec }> {
  let xml: string;
  try {
    xml = await readFile(path, 'utf8');
  } catch (e) {
    throw new VireoError('NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`, { path });
  }
  const doc = parseXml(xml, basename(path));
  const m = child(child(doc, 'VirtualBox'), 'Machine');
  if (!m) throw new VireoError('INVALID_ARGUMENT', `${basename(path)} is not a VirtualBox machine file (no VirtualBox/Machine element): choose the .vbox file in the machine's folder`, { path });
  const spec = emptySpec(basename(path, '.vbox'));
  const disks = applyVboxMachine(spec, m, basename(path), { ovfDisks: false });
  // Locations are relative to the machine's folder (or absolute).
  spec.disks = spec.disks.map((d, i) => ({ ...d, source: isAbsolute(disks[i]!.location) ? disks[i]!.location : join(dirname(path), disks[i]!.location) }));
  if (!spec.firmware) spec.firmware = 'bios';
  return { spec };
}

/** VirtualBox's default machine folder. */
export const defaultVirtualBoxDir = () => join(homedir(), 'VirtualBox VMs');

/** Every <dir>/<machine>/<machine>.vbox (and any other .vbox there), read for the list. */
export async function listVirtualBoxMachines(dir: string): Promise<VirtualBoxLibrary> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) return { dir, note: `${dir} is not a folder: VirtualBox keeps its machines in ~/VirtualBox VMs unless its preferences name another`, machines: [] };
  const machines: VirtualBoxLibrary['machines'] = [];
  for (const sub of (await readdir(dir)).sort()) {
    const mdir = join(dir, sub);
    if (!(await stat(mdir).catch(() => null))?.isDirectory()) continue;
    for (const f of (await readdir(mdir).catch(() => [] as string[])).filter((n) => n.endsWith('.vbox'))) {
      const path = join(mdir, f);
      try {
        const { spec } = await readVboxFile(path);
        machines.push({ name: spec.name, path, os: spec.os?.name ?? null, cpus: spec.cpus, memoryMiB: spec.memoryMiB, disks: spec.disks.length, error: null });
      } catch (e) {
        machines.push({ name: basename(f, '.vbox'), path, os: null, cpus: null, memoryMiB: null, disks: 0, error: (e as Error).message });
      }
    }
  }
  return { dir, note: machines.length ? null : `no VirtualBox machines (<name>/<name>.vbox) in ${dir}`, machines };
}
