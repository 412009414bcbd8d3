import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropNode, emptyMeta, loadMeta, newSnapshotId, reconcile, saveMeta, type ImageTags, type SnapshotMeta } from '../../../electron/engine/snapshots/meta.ts';

// The tree rules and crash reconciliation of snapshot metadata, on made-up image contents.

const node = (id: string, parent: string | null, live = false) => ({
  id,
  name: id.toUpperCase(),
  description: '',
  createdAt: '2026-01-01T00:00:00.000Z',
  parent,
  live,
  vmState: (live ? 'running' : 'stopped') as 'running' | 'stopped',
  hasThumbnail: false,
});

function images(spec: Record<string, string[]>, vm: string[] = []): ImageTags {
  return new Map(Object.entries(spec).map(([k, tags]) => [k, new Map(tags.map((t) => [t, { vmStateSize: vm.includes(t) ? 1000 : 0, dateSec: 1_700_000_000 }]))]));
}

const tree = (): SnapshotMeta => ({ ...emptyMeta(), nodes: [node('a', null), node('b', 'a'), node('c', 'b'), node('d', 'a')], current: 'c' });

describe('snapshot tree', () => {
  it('deleting a middle node re-parents its children and moves current up', () => {
    const m = dropNode(tree(), 'b');
    expect(m.nodes.map((n) => [n.id, n.parent])).toEqual([
      ['a', null],
      ['c', 'a'],
      ['d', 'a'],
    ]);
    expect(m.current).toBe('c');
    expect(dropNode(tree(), 'c').current).toBe('b');
  });

  it('ids are tags QEMU cannot mistake for numeric snapshot ids', () => {
    for (let i = 0; i < 50; i++) expect(newSnapshotId()).toMatch(/^s[0-9a-f]{8}$/);
  });

  it('metadata round-trips; a corrupt file reads as empty (reconcile then adopts the images)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-meta-'));
    await saveMeta(join(dir, 's.json'), tree());
    expect(await loadMeta(join(dir, 's.json'))).toEqual(tree());
    writeFileSync(join(dir, 'bad.json'), '{"version": 1, "nodes": [{');
    expect(await loadMeta(join(dir, 'bad.json'))).toEqual(emptyMeta());
    expect(await loadMeta(join(dir, 'missing.json'))).toEqual(emptyMeta());
  });

  it('a field that does not parse costs only itself, never the names and shape of the whole tree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-meta-'));
    const file = join(dir, 's.json');
    // A node whose freeze result lacks its message, and one that is not a node at all.
    const odd = { ...node('b', 'a', true), quiesce: { status: 'unavailable', filesystems: null } };
    writeFileSync(file, JSON.stringify({ version: 1, nodes: [node('a', null), odd, { id: 'c' }], current: 'b', pending: null, trash: ['t1'] }));
    const m = await loadMeta(file);
    expect(m.nodes.map((n) => [n.id, n.name, n.parent, n.quiesce ?? null])).toEqual([['a', 'A', null, null], ['b', 'B', 'a', null]]);
    expect({ current: m.current, trash: m.trash, pending: m.pending }).toEqual({ current: 'b', trash: ['t1'], pending: null });
  });
});

describe('reconcile', () => {
  it('agreeing metadata and images: nothing changes', () => {
    const r = reconcile({ meta: tree(), images: images({ disk0: ['a', 'b', 'c', 'd'], pflash1: ['a', 'b', 'c', 'd'] }), active: false });
    expect(r.changed).toBe(false);
    expect(r.purge).toEqual([]);
    expect(r.meta).toEqual(tree());
  });

  it('a tag missing from one image drops the node and purges the rest of it (stopped only)', () => {
    const imgs = images({ disk0: ['a', 'b', 'c', 'd'], disk1: ['a', 'c', 'd'] });
    const r = reconcile({ meta: tree(), images: imgs, active: false });
    expect(r.meta.nodes.map((n) => n.id)).toEqual(['a', 'c', 'd']);
    expect(r.meta.nodes.find((n) => n.id === 'c')!.parent).toBe('a');
    expect(r.purge).toEqual([{ image: 'disk0', tag: 'b' }]);
    expect(r.dropped).toEqual(['b']);
    const running = reconcile({ meta: tree(), images: imgs, active: true });
    expect(running.purge).toEqual([]);
    expect(running.meta.trash).toEqual(['b']);
  });

  it('a pending save found on every image becomes the node it was meant to be', () => {
    const meta: SnapshotMeta = { ...tree(), pending: { op: 'save', node: { ...node('e', 'c', true), name: 'mine' }, startedAt: 'x' } };
    const r = reconcile({ meta, images: images({ disk0: ['a', 'b', 'c', 'd', 'e'] }, ['e']), active: true });
    expect(r.meta.pending).toBeNull();
    expect(r.meta.current).toBe('e');
    expect(r.meta.nodes.at(-1)).toMatchObject({ id: 'e', name: 'mine', parent: 'c', live: true });
  });

  it('a pending save on some images only is purged, never adopted', () => {
    const meta: SnapshotMeta = { ...tree(), pending: { op: 'save', node: node('e', 'c'), startedAt: 'x' } };
    const r = reconcile({ meta, images: images({ disk0: ['a', 'b', 'c', 'd', 'e'], disk1: ['a', 'b', 'c', 'd'] }), active: false });
    expect(r.meta.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(r.meta.current).toBe('c');
    expect(r.purge).toEqual([{ image: 'disk0', tag: 'e' }]);
    // and once purged the trash empties
    const after = reconcile({ meta: r.meta, images: images({ disk0: ['a', 'b', 'c', 'd'], disk1: ['a', 'b', 'c', 'd'] }), active: false });
    expect(after.meta.trash).toEqual([]);
  });

  it('an unknown tag on every image is adopted as "Recovered …" at the root', () => {
    const r = reconcile({ meta: tree(), images: images({ disk0: ['a', 'b', 'c', 'd', 'zz'] }, ['zz']), active: false });
    expect(r.meta.nodes.at(-1)).toMatchObject({ id: 'zz', parent: null, live: true, name: expect.stringMatching(/^Recovered 2023-11-14 /) });
    expect(r.purge).toEqual([]);
  });

  it('a pending delete is finished, and its tag is not adopted back', () => {
    const meta: SnapshotMeta = { ...tree(), pending: { op: 'delete', id: 'b', startedAt: 'x' } };
    const imgs = images({ disk0: ['a', 'b', 'c', 'd'], disk1: ['a', 'b', 'c', 'd'] });
    const running = reconcile({ meta, images: imgs, active: true });
    expect(running.meta.nodes.map((n) => n.id)).toEqual(['a', 'c', 'd']);
    expect(running.meta.trash).toEqual(['b']);
    const stopped = reconcile({ meta: running.meta, images: imgs, active: false });
    expect(stopped.meta.nodes.map((n) => n.id)).toEqual(['a', 'c', 'd']);
    expect(stopped.purge).toEqual([
      { image: 'disk0', tag: 'b' },
      { image: 'disk1', tag: 'b' },
    ]);
  });

  it('a pending restore: re-applied when stopped, settled from QEMU when running', () => {
    const meta: SnapshotMeta = { ...tree(), pending: { op: 'restore', id: 'd', startedAt: 'x' } };
    const imgs = images({ disk0: ['a', 'b', 'c', 'd'] });
    expect(reconcile({ meta, images: imgs, active: false }).redoRestore).toBe('d');
    const done = reconcile({ meta, images: imgs, active: true, restoreOutcome: 'done' });
    expect(done.meta).toMatchObject({ current: 'd', pending: null });
    const failed = reconcile({ meta, images: imgs, active: true, restoreOutcome: 'failed' });
    expect(failed.meta).toMatchObject({ current: 'c', pending: null });
    const still = reconcile({ meta, images: imgs, active: true, restoreOutcome: 'running' });
    expect(still.meta.pending).toMatchObject({ op: 'restore', id: 'd' });
    const gone = reconcile({ meta, images: images({ disk0: ['a', 'b', 'c'] }), active: false });
    expect(gone.redoRestore).toBeNull();
    expect(gone.meta.pending).toBeNull();
  });

  it('no image read means nothing is known to exist: every node goes (callers skip unreadable images)', () => {
    const r = reconcile({ meta: tree(), images: new Map(), active: false });
    expect(r.meta.nodes).toEqual([]);
    expect(r.meta.current).toBeNull();
  });
});
