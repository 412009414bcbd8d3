import { describe, expect, it } from 'vitest';
import type { VmSummary } from '../../../electron/api/types.ts';
import { actionAvailability } from '../../../renderer/src/lib/vm-actions.ts';
import { filterVms } from '../../../renderer/src/lib/filter.ts';
import { diffPatch, parseArgLines } from '../../../renderer/src/lib/patch.ts';
import { fieldIssue, issuesByField } from '../../../renderer/src/lib/issues.ts';

const vm = (over: Partial<VmSummary> = {}): VmSummary => ({
  id: '1', name: 'Debian', os: { id: 'debian12', name: 'Debian 12', family: 'linux' }, state: 'stopped', broken: null,
  cpus: 2, memoryMiB: 2048, createdAt: '2025-01-01T00:00:00Z', accel: null, crash: null, ...over,
});

describe('actionAvailability', () => {
  it('gives a reason for every refusal', () => {
    expect(actionAvailability(null, 'start')).toEqual({ ok: false, reason: 'Select a VM first.' });
    expect(actionAvailability(vm(), 'start').ok).toBe(true);
    expect(actionAvailability(vm(), 'pause')).toMatchObject({ ok: false, reason: expect.stringMatching(/not running/) });
    expect(actionAvailability(vm({ state: 'running' }), 'delete')).toMatchObject({ ok: false, reason: expect.stringMatching(/Stop the VM/) });
    expect(actionAvailability(vm({ state: 'paused' }), 'resume').ok).toBe(true);
    expect(actionAvailability(vm({ state: 'stopping' }), 'poweroff').ok).toBe(true);
    expect(actionAvailability(vm({ state: 'saving' }), 'snapshot')).toMatchObject({ ok: false });
    expect(actionAvailability(vm({ broken: 'bad json' }), 'start')).toMatchObject({ ok: false, reason: expect.stringMatching(/bad json/) });
    expect(actionAvailability(vm({ broken: 'bad json' }), 'delete').ok).toBe(true);
  });

  it('lets a running or paused VM be cloned (from a snapshot, the dialog says), not one in transition', () => {
    expect(actionAvailability(vm({ state: 'running' }), 'clone').ok).toBe(true);
    expect(actionAvailability(vm({ state: 'paused' }), 'clone').ok).toBe(true);
    expect(actionAvailability(vm({ state: 'saved' }), 'clone').ok).toBe(true);
    expect(actionAvailability(vm({ state: 'starting' }), 'clone')).toMatchObject({ ok: false, reason: expect.stringMatching(/starting; wait/) });
  });
});

describe('filterVms', () => {
  const list = Array.from({ length: 500 }, (_, i) =>
    vm({ id: String(i), name: `vm-${i}`, state: i % 2 ? 'running' : 'stopped', os: i % 3 ? { id: 'd', name: 'Debian 12', family: 'linux' } : { id: 'w', name: 'Windows 11', family: 'windows' } }),
  );
  it('matches every word against name, OS and state', () => {
    const hits = filterVms(list, 'windows running');
    expect(hits.length).toBe(list.filter((v) => v.os.family === 'windows' && v.state === 'running').length);
    expect(hits.length).toBeGreaterThan(0);
    expect(filterVms(list, 'VM-499')).toHaveLength(1);
    expect(filterVms(list, 'vm-42')).toHaveLength(11); // substring: vm-42, vm-420..429
    expect(filterVms(list, '', 'stopped')).toHaveLength(250);
    expect(filterVms(list, '  ')).toHaveLength(500);
  });
});

describe('diffPatch', () => {
  it('sends only what changed, arrays whole', () => {
    const before = { name: 'a', system: { cpus: 1, memoryMiB: 512 }, network: { portForwards: [{ hostPort: 1 }] } };
    const after = { name: 'a', system: { cpus: 2, memoryMiB: 512 }, network: { portForwards: [{ hostPort: 1 }, { hostPort: 2 }] } };
    expect(diffPatch(before, after)).toEqual({ system: { cpus: 2 }, network: { portForwards: [{ hostPort: 1 }, { hostPort: 2 }] } });
    expect(diffPatch(before, structuredClone(before))).toBeUndefined();
  });
  it('splits extra args on lines only', () => {
    expect(parseArgLines('-device\n usb-tablet \n\n-name x y')).toEqual(['-device', 'usb-tablet', '-name x y']);
  });
});

describe('issuesByField', () => {
  it('maps engine issue paths onto fields', () => {
    const err = { code: 'INVALID_ARGUMENT' as const, message: 'x', details: { issues: [{ path: 'patch.system.memoryMiB', message: 'too big' }, { path: 'name', message: 'taken' }] } };
    const m = issuesByField(err, 'patch.');
    expect(m.get('system.memoryMiB')).toBe('too big');
    expect(fieldIssue(m, 'system')).toBe('too big');
    expect(fieldIssue(m, 'name')).toBe('taken');
    expect(issuesByField({ code: 'INTERNAL', message: 'x' }).size).toBe(0);
  });
});
