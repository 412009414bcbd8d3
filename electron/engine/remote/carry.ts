import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotMeta } from '../snapshots/meta.ts';
import { run } from '../util/proc.ts';
import { NVRAM_FILES } from '../paths.ts';
import { escapeXml as x } from './xml.ts';
import type { Virsh } from './virsh.ts';

// What an offline move to a libvirt host carries besides the disks: the UEFI variable store
// and the snapshot tree.
//
// Variable store: libvirt 9.0 takes only a raw store (`<nvram format=…>` came later), so
// Vireo's qcow2 store is converted to raw (its internal snapshots stay behind) and uploaded as
// a volume of the pool; the domain's <nvram> names that volume, and libvirt, finding the file,
// uses it instead of copying its template.
//
// Snapshots: the qcow2 internal snapshots travel inside the uploaded images (their tags are
// Vireo's snapshot ids); `snapshot-create --redefine` makes libvirt know them, parents first.
// They arrive as disk states (state shutoff), because a live snapshot's saved RAM does not
// load there. Checked against libvirt 9.0 / QEMU 7.2 (remote-offline.test redefines one as
// "running" and reverts it): for a UEFI VM QEMU saved the RAM into the first writable image,
// the variable store, which goes raw (libvirt 9.0 takes no qcow2 store), so libvirt's QEMU
// answers "This is a disk-only snapshot"; for a BIOS VM the RAM travels inside disk0, but it
// was saved from Vireo's device layout (ids, buses, chardevs), not the one libvirt builds, so
// it is not offered either. Reverting a disk state is `qemu-img snapshot -a` on each disk,
// exactly what the images hold. The variable store is not part of a libvirt snapshot of a
// stopped domain: it keeps its current content across a revert.
//
// TPM state: not carried, a VM with it is refused. Checked in libvirt 9.0 (Debian 12): none
// of the 516 public functions of libvirt.so writes a domain's TPM state (the only upload is
// virStorageVolUpload, into a pool's volume), and its domain schema gives the emulator
// backend no state location (libvirt keeps it in its own swtpm directory, made at the first
// start); the "external" backend needs a swtpm that something other than libvirt runs there.

export const SNAPSHOTS_AS_DISK_STATES = "snapshots arrive as disk states: reverting one there restores its disks (the guest then boots from them); a live snapshot's saved RAM stays behind (saved under Vireo's device layout, which libvirt's is not; a UEFI VM's is kept in its variable store, which goes without its snapshots)";

/** This VM's variable store file, if it has one. */
export function nvramFile(dir: string): string | null {
  for (const n of NVRAM_FILES) if (existsSync(join(dir, n))) return join(dir, n);
  return null;
}

/** The store converted to raw in a private temp dir (removed by `done`), for vol-upload. */
export async function rawNvram(qemuImg: string, file: string): Promise<{ path: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vireo-nvram-'));
  const path = join(dir, 'nvram.fd');
  try {
    await run(qemuImg, ['convert', '-U', '-O', 'raw', file, path], { timeoutMs: 60_000 });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { path, done: () => rm(dir, { recursive: true, force: true }) };
}

export type SnapshotNodeMeta = SnapshotMeta['nodes'][number];

/** Nodes in an order where every parent comes before its children. */
export function parentsFirst(nodes: SnapshotNodeMeta[]): SnapshotNodeMeta[] {
  const ids = new Set(nodes.map((n) => n.id));
  const out: SnapshotNodeMeta[] = [];
  const seen = new Set<string>();
  const visit = (n: SnapshotNodeMeta, path: Set<string>) => {
    if (seen.has(n.id) || path.has(n.id)) return;
    path.add(n.id);
    const p = n.parent && ids.has(n.parent) ? nodes.find((m) => m.id === n.parent) : undefined;
    if (p) visit(p, path);
    seen.add(n.id);
    out.push(n);
  };
  for (const n of nodes) visit(n, new Set());
  return out;
}

/**
 * A libvirt snapshot document redefining one of Vireo's snapshots as a disk state: its name is
 * the qcow2 tag (the images know it by that), Vireo's name leads the description. `disks`: the
 * domain's target devs, each with whether its image holds this snapshot's tag.
 */
export function snapshotRedefineXml(n: SnapshotNodeMeta, knownParents: Set<string>, disks: { dev: string; has: boolean }[], domainXml: string): string {
  const description = n.description ? `${n.name}: ${n.description}` : n.name;
  const created = Math.floor(Date.parse(n.createdAt) / 1000) || 0;
  const l = ['<domainsnapshot>', `  <name>${x(n.id)}</name>`, `  <description>${x(description)}</description>`, '  <state>shutoff</state>'];
  if (n.parent && knownParents.has(n.parent)) l.push('  <parent>', `    <name>${x(n.parent)}</name>`, '  </parent>');
  l.push(`  <creationTime>${created}</creationTime>`, "  <memory snapshot='no'/>", '  <disks>');
  for (const d of disks) l.push(`    <disk name='${x(d.dev)}' snapshot='${d.has ? 'internal' : 'no'}'/>`);
  l.push('  </disks>');
  l.push(domainXml.replace(/^<\?xml[^>]*>\s*/, '').trimEnd());
  l.push('</domainsnapshot>');
  return l.join('\n') + '\n';
}

/**
 * Makes libvirt know the snapshots inside the uploaded images. `tags[dev]`: the tags that
 * disk's image holds. Returns how many were redefined.
 */
export async function redefineSnapshots(v: Virsh, domain: string, meta: SnapshotMeta, tags: Record<string, string[]>, signal?: AbortSignal): Promise<number> {
  const domainXml = await v.run(['dumpxml', '--inactive', '--security-info', '--domain', domain]);
  const done = new Set<string>();
  for (const n of parentsFirst(meta.nodes)) {
    const disks = Object.entries(tags).map(([dev, t]) => ({ dev, has: t.includes(n.id) }));
    // A snapshot no image holds (a node left over from a crash) has nothing to revert to.
    if (!disks.some((d) => d.has)) continue;
    const doc = snapshotRedefineXml(n, done, disks, domainXml);
    await v.withFile(doc, (file) => ['snapshot-create', '--domain', domain, '--xmlfile', file, '--redefine', ...(meta.current === n.id ? ['--current'] : [])], signal);
    done.add(n.id);
  }
  return done.size;
}
