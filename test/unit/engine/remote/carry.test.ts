import { describe, expect, it } from 'vitest';
import { parentsFirst, snapshotRedefineXml, type SnapshotNodeMeta } from '../../../../electron/engine/remote/carry.ts';
import { parseXml, child, childrenOf, textOf } from '../../../../electron/engine/remote/xml.ts';

// The pure half of carrying a VM's snapshots to libvirt (integration: remote-offline.test):
// the redefine document and the order (parents before children).

const node = (id: string, parent: string | null, extra: Partial<SnapshotNodeMeta> = {}): SnapshotNodeMeta => ({ id, name: `name of ${id}`, description: '', createdAt: '2026-12-01T10:00:00.500Z', parent, live: false, vmState: 'stopped', hasThumbnail: false, ...extra });

describe('snapshotRedefineXml', () => {
  it('names the snapshot by its image tag, keeps Vireo name, parent and time, and says disk state', () => {
    const doc = snapshotRedefineXml(node('s2', 's1', { name: 'after <update>', description: 'ok & tested', live: true, vmState: 'running' }), new Set(['s1']), [{ dev: 'vda', has: true }, { dev: 'vdb', has: false }], "<?xml version='1.0'?>\n<domain type='qemu'><name>x</name></domain>\n");
    const x = parseXml(doc);
    expect(x.name).toBe('domainsnapshot');
    expect(textOf(child(x, 'name'))).toBe('s2');
    expect(textOf(child(x, 'description'))).toBe('after <update>: ok & tested');
    expect(textOf(child(x, 'state'))).toBe('shutoff');
    expect(child(x, 'memory')?.attrs.snapshot).toBe('no');
    expect(textOf(child(child(x, 'parent'), 'name'))).toBe('s1');
    expect(textOf(child(x, 'creationTime'))).toBe(String(Date.parse('2026-12-01T10:00:00Z') / 1000));
    expect(childrenOf(child(x, 'disks'), 'disk').map((d) => [d.attrs.name, d.attrs.snapshot])).toEqual([['vda', 'internal'], ['vdb', 'no']]);
    expect(textOf(child(child(x, 'domain'), 'name'))).toBe('x');
    expect(doc).not.toContain('<?xml');
  });

  it('leaves out a parent libvirt was not given (one no image holds)', () => {
    expect(snapshotRedefineXml(node('s2', 'gone'), new Set(), [{ dev: 'vda', has: true }], '<domain/>')).not.toContain('<parent>');
  });
});

describe('parentsFirst', () => {
  it('orders every parent before its children, whatever the stored order, and survives a cycle', () => {
    const order = parentsFirst([node('c', 'b'), node('b', 'a'), node('d', 'a'), node('a', null)]).map((n) => n.id);
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('b'));
    expect(order.indexOf('b')).toBeLessThan(order.indexOf('c'));
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('d'));
    expect(order).toHaveLength(4);
    expect(parentsFirst([node('x', 'y'), node('y', 'x')]).map((n) => n.id).sort()).toEqual(['x', 'y']);
  });
});
