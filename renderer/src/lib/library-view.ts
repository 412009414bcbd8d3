import type { VmSummary } from '../../../electron/api/types.ts';
import type { VmGroup } from '../../../electron/api/library-types.ts';
import { isActive } from '../../../electron/shared/states.ts';
import { compareNames } from './filter.ts';

// The library's layout as pure data: the VMs sorted (name, state, last use), grouped under
// their folders (collapsed ones hiding their VMs), cut into rows for the virtualised list
// (one VM per row in the list view, `columns` per row in the grid). The sidebar renders only
// the rows in view, so a 500-VM library costs about what an empty one does.

export type LibraryView = 'list' | 'grid';
export type LibrarySort = 'name' | 'state' | 'lastUsed';
export const LIBRARY_SORTS: readonly LibrarySort[] = ['name', 'state', 'lastUsed'];
export const SORT_LABEL: Record<LibrarySort, string> = { name: 'Name', state: 'State', lastUsed: 'Last used' };

export interface LibraryPrefs {
  view: LibraryView;
  sort: LibrarySort;
  /** ids of collapsed groups */
  collapsed: string[];
}

export const DEFAULT_PREFS: LibraryPrefs = { view: 'list', sort: 'name', collapsed: [] };

const key = (library: string) => `vireo.libraryView:${library}`;

/** The library's view settings as last chosen (per library, like the last VM and tab). */
export function readPrefs(store: Pick<Storage, 'getItem'>, library: string): LibraryPrefs {
  try {
    const v = JSON.parse(store.getItem(key(library)) ?? '{}') as Partial<LibraryPrefs>;
    return {
      view: v.view === 'grid' ? 'grid' : 'list',
      sort: LIBRARY_SORTS.includes(v.sort as LibrarySort) ? (v.sort as LibrarySort) : 'name',
      collapsed: Array.isArray(v.collapsed) ? v.collapsed.filter((x): x is string => typeof x === 'string') : [],
    };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function writePrefs(store: Pick<Storage, 'setItem'>, library: string, prefs: LibraryPrefs): void {
  try {
    store.setItem(key(library), JSON.stringify(prefs));
  } catch {
    // storage full or disabled: remembering the view is a nicety
  }
}

const byName = (a: VmSummary, b: VmSummary) => compareNames(a.name, b.name);

/** Active first (a guest is up or on its way), stopped last, any other state (saved, crashed…) between. */
const stateRank = (v: VmSummary) => (isActive(v.state) ? 0 : v.state === 'stopped' ? 2 : 1);

export function sortLibrary(vms: readonly VmSummary[], sort: LibrarySort, lastUsed: Record<string, string | null> = {}): VmSummary[] {
  const out = [...vms];
  if (sort === 'name') return out.sort(byName);
  if (sort === 'state') return out.sort((a, b) => stateRank(a) - stateRank(b) || byName(a, b));
  // Newest use first; a VM that never ran counts from its creation.
  const t = (v: VmSummary) => Date.parse(lastUsed[v.id] ?? v.createdAt) || 0;
  return out.sort((a, b) => t(b) - t(a) || byName(a, b));
}

export type LibraryRow =
  | { kind: 'group'; key: string; group: VmGroup | null; name: string; count: number; collapsed: boolean }
  | { kind: 'vms'; key: string; vms: VmSummary[] };

export const UNGROUPED_KEY = 'ungrouped';

/**
 * Rows for the list: with no groups, only VM rows (the plain library); else each group's
 * header and VMs, then the VMs in no group under their own header. While `filtering`, a group
 * without a match is left out.
 */
export function libraryRows(shown: readonly VmSummary[], groups: readonly VmGroup[], collapsed: readonly string[], columns: number, filtering: boolean): LibraryRow[] {
  const rows: LibraryRow[] = [];
  const chunk = (vms: VmSummary[], prefix: string) => {
    for (let i = 0; i < vms.length; i += columns) rows.push({ kind: 'vms', key: `${prefix}:${vms[i]!.id}`, vms: vms.slice(i, i + columns) });
  };
  if (!groups.length) {
    chunk([...shown], UNGROUPED_KEY);
    return rows;
  }
  const groupOf = new Map<string, string>();
  for (const g of groups) for (const id of g.vms) groupOf.set(id, g.id);
  for (const g of groups) {
    const members = shown.filter((v) => groupOf.get(v.id) === g.id);
    if (filtering && !members.length) continue;
    const isCollapsed = collapsed.includes(g.id);
    rows.push({ kind: 'group', key: `group:${g.id}`, group: g, name: g.name, count: members.length, collapsed: isCollapsed });
    if (!isCollapsed) chunk(members, g.id);
  }
  const rest = shown.filter((v) => !groupOf.has(v.id));
  if (rest.length || !filtering) {
    rows.push({ kind: 'group', key: `group:${UNGROUPED_KEY}`, group: null, name: 'Not in a group', count: rest.length, collapsed: false });
    chunk(rest, UNGROUPED_KEY);
  }
  return rows;
}

/** The VMs in the order the rows show them (keyboard navigation walks this). */
export const rowOrder = (rows: readonly LibraryRow[]): VmSummary[] => rows.flatMap((r) => (r.kind === 'vms' ? r.vms : []));
