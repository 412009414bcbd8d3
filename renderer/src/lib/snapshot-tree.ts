import type { SnapshotNode } from '../../../electron/api/types.ts';

// The snapshot tree is stored as parent pointers; the view needs rows in depth-first order
// with their depth and the guide lines to draw. "Current state" is a synthetic leaf under
// the snapshot the running disk descends from, as in VirtualBox.

export const CURRENT_ID = '\u0000current';

export interface TreeRow {
  id: string;
  node: SnapshotNode | null; // null for the "Current state" row
  depth: number;
  /** for each ancestor level: whether a vertical guide continues through this row */
  guides: boolean[];
  isLast: boolean;
  isCurrentParent: boolean;
}

export function layoutSnapshotTree(nodes: SnapshotNode[], current: string | null): TreeRow[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const children = new Map<string | null, string[]>();
  for (const n of nodes) {
    // A parent that no longer exists (deleted, or a corrupt pointer) must not hide the node.
    const parent = n.parent !== null && byId.has(n.parent) ? n.parent : null;
    const list = children.get(parent) ?? [];
    list.push(n.id);
    children.set(parent, list);
  }
  const currentParent = current !== null && byId.has(current) ? current : null;
  const list = children.get(currentParent) ?? [];
  list.push(CURRENT_ID);
  children.set(currentParent, list);

  const created = (id: string) => (id === CURRENT_ID ? Infinity : Date.parse(byId.get(id)!.createdAt) || 0);
  for (const l of children.values()) l.sort((a, b) => created(a) - created(b));

  const rows: TreeRow[] = [];
  const seen = new Set<string>();
  const walk = (id: string, depth: number, guides: boolean[], isLast: boolean) => {
    if (seen.has(id)) return; // a cycle in parent pointers: show each node once
    seen.add(id);
    const node = id === CURRENT_ID ? null : byId.get(id)!;
    rows.push({ id, node, depth, guides, isLast, isCurrentParent: id === currentParent });
    const kids = children.get(id) ?? [];
    kids.forEach((k, i) => walk(k, depth + 1, [...guides, !isLast], i === kids.length - 1));
  };
  const roots = children.get(null) ?? [];
  roots.forEach((r, i) => walk(r, 0, [], i === roots.length - 1));
  // Nodes only reachable through a cycle have no root; list them flat rather than lose them.
  for (const n of nodes) if (!seen.has(n.id)) walk(n.id, 0, [], true);
  return rows;
}
