import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import { disposeEngine, tempEngine } from './helpers.ts';

// Config v2's NIC list through the real engine (library, qemu-img, vm.json on disk): the OS
// defaults set the first card's model without losing its MAC, a settings patch by NIC id
// changes one card and keeps the rest, and every clone gets a new MAC on every card.

let engine: Engine;
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(async () => {
  await disposeEngine(engine);
});

const MAC = /^52:54:00(:[0-9a-f]{2}){3}$/;

describe('networks[] in the engine', () => {
  it('create, patch by id, add cards, clone: ids and models kept, MACs renewed per card', async () => {
    const vm = await engine.client.call('vms.create', { name: 'nics', os: 'win11', disk: '64G', memory: '4G', cpus: 1 });
    // Windows defaults to e1000e; the MAC the library drew survives the merge of the defaults.
    expect(vm.config!.networks).toEqual([{ id: 'net0', mode: 'user', model: 'e1000e', mac: expect.stringMatching(MAC), portForwards: [] }]);
    const mac0 = vm.config!.networks[0]!.mac;
    const onDisk = JSON.parse(readFileSync(join(vm.dir, 'vm.json'), 'utf8'));
    expect(onDisk).toMatchObject({ schemaVersion: 2, arch: 'x86_64', backend: 'qemu', networks: [{ id: 'net0', mac: mac0 }] });
    expect(onDisk).not.toHaveProperty('network');

    const patched = await engine.client.call('vms.update', {
      vm: vm.id,
      patch: { networks: [{ id: 'net0', model: 'rtl8139' }, { id: 'net1', mac: '52:54:00:aa:bb:01', portForwards: [{ hostPort: 2222, guestPort: 22 }] }, { id: 'net2', mac: '52:54:00:aa:bb:02', model: 'e1000' }] },
    });
    expect(patched.config!.networks.map((n) => [n.id, n.model, n.mac])).toEqual([
      ['net0', 'rtl8139', mac0],
      ['net1', 'virtio-net-pci', '52:54:00:aa:bb:01'],
      ['net2', 'e1000', '52:54:00:aa:bb:02'],
    ]);
    await expect(engine.client.call('vms.update', { vm: vm.id, patch: { networks: [{ id: 'net0' }, { id: 'net1', mac: mac0 }] } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/is used by two network cards/),
    });

    for (const linked of [false, true]) {
      const c = await engine.client.call('vms.clone', { vm: vm.id, name: `nics-${linked ? 'linked' : 'full'}`, linked });
      const nics = c.config!.networks;
      expect(nics.map((n) => [n.id, n.model, n.portForwards.length])).toEqual([['net0', 'rtl8139', 0], ['net1', 'virtio-net-pci', 1], ['net2', 'e1000', 0]]);
      for (const [i, n] of nics.entries()) {
        expect(n.mac).toMatch(MAC);
        expect(n.mac).not.toBe(patched.config!.networks[i]!.mac);
      }
      expect(new Set(nics.map((n) => n.mac)).size).toBe(3);
    }

    // No card at all is a valid VM (v1's "network none").
    const off = await engine.client.call('vms.update', { vm: vm.id, patch: { networks: [] } });
    expect(off.config!.networks).toEqual([]);
  });
});
