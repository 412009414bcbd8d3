import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { SnapshotNode } from '../../api/types.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';

// <vmDir>/snapshots.json: the tree Vireo shows, kept next to the truth (the qcow2 internal
// snapshots inside the images). Every operation writes a `pending` marker before it touches
// an image and clears it after, so `reconcile` can finish or undo work a crash interrupted.
// Everything here is pure except load/save, so the tree rules are unit-tested without QEMU.

export const SNAPSHOT_META_VERSION = 1;

const NodeSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  description: z.string().default(''),
  createdAt: z.string(),
  parent: z.string().nullable(),
  live: z.boolean(),
  vmState: z.enum(['running', 'paused', 'stopped']),
  hasThumbnail: z.boolean().default(false),
  /** the guest agent's freeze for a live snapshot (agent/service.ts quiesce); null: none tried */
  quiesce: z.object({ status: z.enum(['frozen', 'refused', 'unavailable']), filesystems: z.number().int().nullable(), message: z.string().nullable() }).nullable().optional(),
});

const PendingSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('save'), node: NodeSchema, startedAt: z.string() }),
  z.object({ op: z.literal('restore'), id: z.string(), startedAt: z.string() }),
  z.object({ op: z.literal('delete'), id: z.string(), startedAt: z.string() }),
]);

const MetaSchema = z.object({
  version: z.literal(SNAPSHOT_META_VERSION),
  nodes: z.array(NodeSchema),
  current: z.string().nullable(),
  pending: PendingSchema.nullable().default(null),
  /** tags Vireo gave up on (failed save, interrupted delete) still to be removed from images */
  trash: z.array(z.string()).default([]),
});

export type SnapshotMeta = z.infer<typeof MetaSchema>;
export type Pending = z.infer<typeof PendingSchema>;

export const emptyMeta = (): SnapshotMeta => ({ version: SNAPSHOT_META_VERSION, nodes: [], current: null, pending: null, trash: [] });

/**
 * Reads the metadata; a missing file is an empty tree, and so is one that is not JSON:
 * reconcile then adopts every snapshot the images hold, so nothing on disk is lost. A file
 * that is JSON keeps every node that parses (lenientMeta).
 */
export async function loadMeta(file: string): Promise<SnapshotMeta> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return emptyMeta();
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return emptyMeta();
  }
  const strict = MetaSchema.safeParse(json);
  if (strict.success) return strict.data;
  // One field this version does not read (a node's freeze result, say) must not cost the whole
  // tree: every node that parses keeps its name and place; only what does not parse is left out.
  return lenientMeta(json);
}

function lenientMeta(json: unknown): SnapshotMeta {
  const j = (json && typeof json === 'object' ? json : {}) as { nodes?: unknown; current?: unknown; pending?: unknown; trash?: unknown };
  const nodes: SnapshotMeta['nodes'] = [];
  for (const raw of Array.isArray(j.nodes) ? j.nodes : []) {
    const n = NodeSchema.safeParse(raw) as { success: boolean; data?: SnapshotMeta['nodes'][number] };
    const m = n.success ? n : NodeSchema.safeParse({ ...(raw as object), quiesce: null });
    if (m.success && m.data) nodes.push(m.data);
  }
  const known = new Set(nodes.map((n) => n.id));
  const pending = PendingSchema.safeParse(j.pending);
  const trash = z.array(z.string()).safeParse(j.trash);
  return {
    version: SNAPSHOT_META_VERSION,
    nodes: nodes.map((n) => (n.parent && !known.has(n.parent) ? { ...n, parent: null } : n)),
    current: typeof j.current === 'string' && known.has(j.current) ? j.current : null,
    pending: pending.success ? pending.data : null,
    trash: trash.success ? trash.data : [],
  };
}

export const saveMeta = (file: string, meta: SnapshotMeta) => {
  // What is written must read back: a node the schema refuses would be left out at the next load.
  const check = MetaSchema.safeParse(JSON.parse(JSON.stringify(meta)));
  if (!check.success) console.error(`vireo: snapshots.json of ${file} does not match its schema: ${check.error.message.slice(0, 500)}`);
  return writeJsonAtomic(file, meta);
};

/**
 * A short tag, usable as node id and qcow2 snapshot name. It starts with a letter because
 * QEMU looks snapshots up by numeric id as well as by name: an all-digit tag could name
 * another snapshot.
 */
export function newSnapshotId(): string {
  return `s${randomBytes(4).toString('hex')}`;
}

/** Removes a node; its children move up to its parent; `current` moves up too if it was it. */
export function dropNode(meta: SnapshotMeta, id: string): SnapshotMeta {
  const node = meta.nodes.find((n) => n.id === id);
  if (!node) return meta;
  const nodes = meta.nodes.filter((n) => n.id !== id).map((n) => (n.parent === id ? { ...n, parent: node.parent } : n));
  return { ...meta, nodes, current: meta.current === id ? node.parent : meta.current };
}

export function toApiNodes(meta: SnapshotMeta): SnapshotNode[] {
  return meta.nodes.map((n) => ({ ...n }));
}

/** What each image holds: image key → tag → whether it carries RAM state. */
export type ImageTags = Map<string, Map<string, { vmStateSize: number; dateSec: number }>>;

export interface ReconcileInput {
  meta: SnapshotMeta;
  images: ImageTags;
  /** the VM runs: images cannot be changed with qemu-img, and a restore may still be in QEMU */
  active: boolean;
  /** for a pending restore while active: what QEMU says happened */
  restoreOutcome?: 'done' | 'failed' | 'running' | 'unknown';
  now?: Date;
}

export interface ReconcileResult {
  meta: SnapshotMeta;
  /** tags to remove from images (only ever non-empty when the VM is stopped) */
  purge: Array<{ image: string; tag: string }>;
  /** a restore interrupted while stopped: re-apply this snapshot on every image */
  redoRestore: string | null;
  /** nodes that left the tree (their thumbnails and TPM copies go) */
  dropped: string[];
  changed: boolean;
}

/**
 * Brings metadata in line with the images. Rules (documented for users in the report):
 * - a node whose tag is missing from any image is dropped (a half-deleted or lost snapshot
 *   cannot be restored consistently); when stopped, its tag goes from the images that have it;
 * - a pending save whose tag is on every image completed inside QEMU: it becomes the node it
 *   was meant to be; otherwise its partial tags are purged;
 * - a pending delete is finished; a pending restore is rolled forward (stopped) or settled
 *   from QEMU's job outcome (running);
 * - a tag on every image that metadata does not know (made outside Vireo, or metadata lost) is
 *   adopted as "Recovered <date>" rather than deleted: it may be somebody's only copy.
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const { images, active } = input;
  const now = input.now ?? new Date();
  let meta: SnapshotMeta = { ...input.meta, nodes: [...input.meta.nodes], trash: [...input.meta.trash] };
  const before = JSON.stringify(input.meta);
  const keys = [...images.keys()];
  const everywhere = (tag: string) => keys.length > 0 && keys.every((k) => images.get(k)!.has(tag));
  const anywhere = (tag: string) => keys.some((k) => images.get(k)!.has(tag));
  const trash = new Set(meta.trash);
  const dropped: string[] = [];
  let redoRestore: string | null = null;

  const p = meta.pending;
  if (p?.op === 'save') {
    if (everywhere(p.node.id) && !meta.nodes.some((n) => n.id === p.node.id)) {
      const parent = p.node.parent && meta.nodes.some((n) => n.id === p.node.parent) ? p.node.parent : null;
      meta.nodes.push({ ...p.node, parent, hasThumbnail: false });
      meta.current = p.node.id;
    } else if (!meta.nodes.some((n) => n.id === p.node.id)) {
      trash.add(p.node.id);
      dropped.push(p.node.id);
    }
    meta.pending = null;
  } else if (p?.op === 'delete') {
    trash.add(p.id);
    if (meta.nodes.some((n) => n.id === p.id)) {
      meta = dropNode(meta, p.id);
      dropped.push(p.id);
    }
    meta.pending = null;
  } else if (p?.op === 'restore') {
    const usable = meta.nodes.some((n) => n.id === p.id) && everywhere(p.id);
    if (!usable) meta.pending = null;
    else if (!active) {
      redoRestore = p.id;
      // Cleared by the caller once the images are re-applied.
    } else if (input.restoreOutcome === 'done') {
      meta.current = p.id;
      meta.pending = null;
    } else if (input.restoreOutcome === 'running') {
      // QEMU is still loading it; the next reconcile settles it.
    } else {
      meta.pending = null;
    }
  }

  for (const n of [...meta.nodes]) {
    if (!everywhere(n.id)) {
      meta = dropNode(meta, n.id);
      dropped.push(n.id);
      if (anywhere(n.id)) trash.add(n.id);
    }
  }

  for (const tag of trash) if (!anywhere(tag)) trash.delete(tag);

  const known = new Set(meta.nodes.map((n) => n.id));
  const firstImage = images.get(keys[0] ?? '');
  for (const [tag, info] of firstImage ?? []) {
    if (known.has(tag) || trash.has(tag) || !everywhere(tag)) continue;
    const when = info.dateSec > 0 ? new Date(info.dateSec * 1000) : now;
    const live = keys.some((k) => (images.get(k)!.get(tag)?.vmStateSize ?? 0) > 0);
    meta.nodes.push({
      id: tag,
      name: `Recovered ${when.toISOString().slice(0, 16).replace('T', ' ')}`,
      description: `Found in the disk images as "${tag}" without Vireo's record of it.`,
      createdAt: when.toISOString(),
      parent: null,
      live,
      vmState: live ? 'running' : 'stopped',
      hasThumbnail: false,
    });
    known.add(tag);
  }

  if (meta.current && !known.has(meta.current)) meta.current = null;
  meta.trash = [...trash];
  const purge: ReconcileResult['purge'] = [];
  if (!active) {
    for (const tag of trash) for (const k of keys) if (images.get(k)!.has(tag)) purge.push({ image: k, tag });
  }
  return { meta, purge, redoRestore, dropped, changed: JSON.stringify(meta) !== before };
}
