import type { LibraryEntry } from '../library/library.ts';
import type { Machine } from '../vm/machine.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import type { ImageTags } from './meta.ts';
import type { SnapshotImage } from './images.ts';
import { v86Tags } from './v86-source.ts';

// What each of a VM's images holds, for the reconcile (meta.ts), by backend: a QEMU VM's qcow2
// internal snapshots, from QEMU itself while it runs (its view is the current one) or from
// qemu-img; a wasm/v86 VM's snapshot folders (v86-source.ts), since its raw images hold none.

export async function readImageTags(entry: LibraryEntry, m: Machine, imgs: SnapshotImage[], qemuImg: () => Promise<string>): Promise<ImageTags> {
  if (entry.config?.backend === 'wasm/v86') return v86Tags(entry);
  const tags: ImageTags = new Map();
  const toMap = (list: Array<{ name: string; vmStateSize: number; dateSec: number }>) => new Map(list.map((s) => [s.name, { vmStateSize: s.vmStateSize, dateSec: s.dateSec }]));
  if (m.isActive) {
    try {
      type Node = { 'node-name': string; image?: { snapshots?: Array<{ name: string; 'vm-state-size'?: number; 'date-sec'?: number }> } };
      const nodes = await m.monitor('read the snapshots of').execute<Node[]>('query-named-block-nodes');
      for (const i of imgs) {
        const n = nodes.find((x) => x['node-name'] === i.node);
        if (!n) throw new Error(`node ${i.node} not found`);
        tags.set(i.node, toMap((n.image?.snapshots ?? []).map((s) => ({ name: s.name, vmStateSize: s['vm-state-size'] ?? 0, dateSec: s['date-sec'] ?? 0 }))));
      }
      return tags;
    } catch {
      tags.clear();
    }
  }
  const img = new QemuImg(await qemuImg());
  for (const i of imgs) tags.set(i.node, toMap(await img.snapshotList(i.path, { forceShare: m.isActive })));
  return tags;
}
