import { describe, expect, it } from 'vitest';
import type { VmSummary } from '../../../electron/api/types.ts';
import { libraryRows, readPrefs, rowOrder, sortLibrary, writePrefs } from '../../../renderer/src/lib/library-view.ts';

// The library's layout as data: sorts, groups with collapse and filtering, rows for the
// virtualised list and grid, and the remembered view settings.

const vm = (name: string, state: VmSummary['state'], createdAt: string): VmSummary => ({
  id: `id-${name}`, name, state, createdAt, os: { id: 'x', name: 'X', family: 'linux' }, broken: null, cpus: 1, memoryMiB: 256, accel: null, crash: null,
});
const a = vm('vm-2', 'stopped', '2026-01-01T00:00:00Z');
const b = vm('vm-10', 'running', '2026-01-02T00:00:00Z');
const c = vm('Alpha', 'saved', '2026-01-03T00:00:00Z');
const d = vm('beta', 'stopped', '2026-01-04T00:00:00Z');
const names = (l: VmSummary[]) => l.map((v) => v.name);

describe('sortLibrary', () => {
  it('by name: natural order, case ignored', () => expect(names(sortLibrary([a, b, c, d], 'name'))).toEqual(['Alpha', 'beta', 'vm-2', 'vm-10']));
  it('by state: active first, stopped last, other states (saved) between, then by name', () =>
    expect(names(sortLibrary([a, b, c, d], 'state'))).toEqual(['vm-10', 'Alpha', 'beta', 'vm-2']));
  it('by last use: newest first; a VM that never ran counts from its creation', () =>
    expect(names(sortLibrary([a, b, c, d], 'lastUsed', { [a.id]: '2026-02-01T00:00:00Z', [b.id]: null, [c.id]: null, [d.id]: '2025-12-01T00:00:00Z' }))).toEqual(['vm-2', 'Alpha', 'vm-10', 'beta']));
});

describe('libraryRows', () => {
  const groups = [{ id: 'g1', name: 'Lab', vms: [b.id, c.id] }, { id: 'g2', name: 'Empty', vms: [] }];
  const shown = sortLibrary([a, b, c, d], 'name');

  it('with no groups: only VM rows, one per row in the list, two per row in the grid', () => {
    expect(libraryRows(shown, [], [], 1, false).map((r) => r.kind)).toEqual(['vms', 'vms', 'vms', 'vms']);
    const grid = libraryRows(shown, [], [], 2, false);
    expect(grid.map((r) => (r.kind === 'vms' ? names(r.vms) : r.kind))).toEqual([['Alpha', 'beta'], ['vm-2', 'vm-10']]);
  });

  it('groups first with their VMs, then the rest under "Not in a group"; collapsed groups hide their VMs', () => {
    const rows = libraryRows(shown, groups, ['g2'], 1, false);
    expect(rows.map((r) => (r.kind === 'group' ? `[${r.name} ${r.count}${r.collapsed ? ' collapsed' : ''}]` : r.vms[0]!.name))).toEqual([
      '[Lab 2]', 'Alpha', 'vm-10', '[Empty 0 collapsed]', '[Not in a group 2]', 'beta', 'vm-2',
    ]);
    expect(names(rowOrder(libraryRows(shown, groups, ['g1'], 1, false)))).toEqual(['beta', 'vm-2']);
  });

  it('while filtering, groups without a match are left out', () => {
    const rows = libraryRows([b], groups, [], 1, true);
    expect(rows.map((r) => (r.kind === 'group' ? r.name : names(r.vms)))).toEqual(['Lab', ['vm-10']]);
  });
});

describe('view settings', () => {
  it('are kept per library; unknown values fall back to the defaults', () => {
    const m = new Map<string, string>();
    const store = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
    expect(readPrefs(store, '/lib')).toEqual({ view: 'list', sort: 'name', collapsed: [] });
    writePrefs(store, '/lib', { view: 'grid', sort: 'lastUsed', collapsed: ['g1'] });
    expect(readPrefs(store, '/lib')).toEqual({ view: 'grid', sort: 'lastUsed', collapsed: ['g1'] });
    expect(readPrefs(store, '/other').view).toBe('list');
    m.set('vireo.libraryView:/lib', '{"view":"tiles","sort":7,"collapsed":[1,"g2"]}');
    expect(readPrefs(store, '/lib')).toEqual({ view: 'list', sort: 'name', collapsed: ['g2'] });
    m.set('vireo.libraryView:/lib', 'not json');
    expect(readPrefs(store, '/lib').sort).toBe('name');
  });
});
