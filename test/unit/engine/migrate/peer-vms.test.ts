import { describe, expect, it } from 'vitest';
import { VmConfigSchema } from '../../../../electron/api/schemas/vm-config.ts';
import { baseConfig } from '../../../../electron/engine/library/library.ts';
import { vireoState } from '../../../../electron/engine/migrate/peer-client.ts';
import { screenPsk } from '../../../../electron/engine/migrate/pairing.ts';
import { isPeerVmOp, peerInfo, peerSnapshots, PEER_VM_OPS } from '../../../../electron/engine/migrate/peer-vms.ts';
import { migrationPsk } from '../../../../electron/engine/migrate/pairing.ts';

// The pure parts of a Vireo host's VMs seen from a paired source (engine/migrate/peer-*.ts):
// what a peer may ask, what it learns of a VM (nothing that names a file of that machine),
// the state words, and the screen stream's own key.

const ID = '6c56ad24-0740-4cab-a43b-2e3ab669dbea';
const vm = (patch: Record<string, unknown> = {}) => VmConfigSchema.parse({ ...baseConfig(ID, 'far vm'), ...patch });

describe('a peer asking about VMs of this library', () => {
  it('may ask five things and nothing else (config writes, deletes, files are not among them)', () => {
    expect([...PEER_VM_OPS]).toEqual(['vm-list', 'vm-get', 'vm-control', 'vm-screen', 'vm-console']);
    for (const op of ['vms.update', 'vm-update', 'vm-delete', 'files.list', 'prepare', 'VM-GET', '']) expect(isPeerVmOp(op)).toBe(false);
  });

  it("learns a VM's shape but no path: disks, ISO, extra arguments and shares of that machine stay there", () => {
    const c = vm({
      disks: [{ id: 'disk0', file: '/srv/secret/disk0.qcow2', format: 'qcow2' }, { id: 'disk1', file: 'disk1.raw', format: 'raw' }],
      cdrom: { ...vm().cdrom, iso: '/home/owner/isos/private.iso' },
      shares: [{ tag: 'home', path: '/home/owner' }],
      advanced: { extraArgs: ['-kernel', '/boot/vmlinuz-private'] },
    });
    const info = peerInfo(ID, c, true);
    expect(info).toMatchObject({ name: 'far vm', uuid: ID, memoryMiB: c.system.memoryMiB, vcpus: c.system.cpus, madeByVireo: true, graphics: { type: 'vnc', socket: null, port: null } });
    expect(info.disks.map((d) => [d.device, d.target, d.file])).toEqual([['disk', 'disk0', null], ['disk', 'disk1', null], ['cdrom', 'cdrom0', null]]);
    const text = JSON.stringify(info);
    for (const s of ['/srv/secret', 'private.iso', '/home/owner', 'vmlinuz', 'disk1.raw']) expect(text).not.toContain(s);
    expect(peerInfo(ID, c, false).graphics).toBeNull();
  });

  it('lists its snapshot tree with parents by name and the current one marked', () => {
    const node = (id: string, name: string, parent: string | null, live: boolean) => ({ id, name, parent, live, description: '', createdAt: '2026-12-01T00:00:00Z', vmState: live ? ('running' as const) : ('stopped' as const), hasThumbnail: false });
    const tree = { vmId: ID, current: 'b', available: true, reason: null, nodes: [node('a', 'base', null, false), node('b', 'live one', 'a', true)] };
    expect(peerSnapshots(tree).map((x) => [x.name, x.parent, x.state, x.current])).toEqual([['base', null, 'shutoff', false], ['live one', 'base', 'running', true]]);
  });

  it("maps the target's states onto the host views' words", () => {
    expect(['running', 'paused', 'stopped', 'crashed', 'saved', 'starting'].map(vireoState)).toEqual(['running', 'paused', 'stopped', 'crashed', 'suspended', 'other']);
  });

  it("keys each screen stream apart from the move's streams and from other screens", () => {
    const s = 'x'.repeat(32);
    const a = screenPsk(s, 'ab'.repeat(16));
    expect(a).toHaveLength(32);
    expect(a.equals(screenPsk(s, 'cd'.repeat(16)))).toBe(false);
    expect(a.toString('hex')).not.toBe(migrationPsk(s, 'ab'.repeat(16)));
    expect(a.equals(screenPsk('y'.repeat(32), 'ab'.repeat(16)))).toBe(false);
  });
});
