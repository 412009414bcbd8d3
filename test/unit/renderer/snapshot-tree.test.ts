import { describe, expect, it } from 'vitest';
import type { SnapshotNode } from '../../../electron/api/types.ts';
import { CURRENT_ID, layoutSnapshotTree } from '../../../renderer/src/lib/snapshot-tree.ts';

const node = (id: string, parent: string | null, minute: number): SnapshotNode => ({
  id, name: id, description: '', parent, live: false, vmState: 'stopped', hasThumbnail: false,
  createdAt: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString(),
});

describe('layoutSnapshotTree', () => {
  it('puts "Current state" alone when there are no snapshots', () => {
    const rows = layoutSnapshotTree([], null);
    expect(rows.map((r) => [r.id, r.depth])).toEqual([[CURRENT_ID, 0]]);
  });

  it('orders depth-first by creation time and hangs Current state under current', () => {
    const nodes = [node('b', 'a', 2), node('a', null, 1), node('c', 'a', 3), node('d', 'b', 4)];
    const rows = layoutSnapshotTree(nodes, 'b');
    expect(rows.map((r) => `${r.id === CURRENT_ID ? 'NOW' : r.id}@${r.depth}`)).toEqual(['a@0', 'b@1', 'd@2', 'NOW@2', 'c@1']);
    expect(rows.find((r) => r.id === 'b')!.isCurrentParent).toBe(true);
    // b is not the last child of a, so a guide continues below d and NOW at b's level
    const now = rows.find((r) => r.id === CURRENT_ID)!;
    expect(now.isLast).toBe(true);
    expect(now.guides).toEqual([false, true]);
    expect(rows.find((r) => r.id === 'c')!.isLast).toBe(true);
  });

  it('keeps nodes whose parent is missing, and nodes caught in a cycle', () => {
    const nodes = [node('orphan', 'gone', 1), node('x', 'y', 2), node('y', 'x', 3)];
    const ids = layoutSnapshotTree(nodes, 'zzz').map((r) => r.id);
    expect(ids).toContain('orphan');
    expect(ids).toContain('x');
    expect(ids).toContain('y');
    expect(ids).toContain(CURRENT_ID);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
