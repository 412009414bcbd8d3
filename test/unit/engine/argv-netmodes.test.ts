import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildArgv, makeHelpers, type ArgvContext } from '../../../electron/engine/qemu/argv/index.ts';
import { networkArgs } from '../../../electron/engine/qemu/argv/network.ts';
import { Nic, VmConfigSchema } from '../../../electron/api/schemas/vm-config.ts';
import { VireoError } from '../../../electron/api/errors.ts';
import { CASES, cfg, contextFor } from './golden/fixtures.ts';

// The network modes' argv per host platform: golden files of the network builder in
// golden/netmodes/<case>.argv.json (rewrite with VIREO_UPDATE_GOLDEN=1 and review the diff).
// Linux: the switch's stream socket, restrict=on user-mode, qemu-bridge-helper; macOS: vmnet;
// Windows: a TAP adapter.

const GOLDEN = join(import.meta.dirname, 'golden', 'netmodes');
const update = process.env.VIREO_UPDATE_GOLDEN === '1';

const nics = [
  { id: 'net0', mac: '52:54:00:00:02:00', portForwards: [{ hostPort: 2222, guestPort: 22 }] },
  { id: 'net1', mac: '52:54:00:00:02:01', mode: 'private', network: 'lab' },
  { id: 'net2', mac: '52:54:00:00:02:02', mode: 'hostonly', model: 'e1000', hostPorts: [8080, 5432], portForwards: [{ hostPort: 8022, guestPort: 22 }] },
  { id: 'net3', mac: '52:54:00:00:02:03', mode: 'bridged', bridge: 'br0' },
  { id: 'net4', mac: '52:54:00:00:02:04', mode: 'none', model: 'rtl8139' },
];
const config = cfg({ name: 'net modes', networks: nics, boot: { order: ['network', 'disk'] } });
const base = contextFor(CASES['modern-linux']!);
const CONTEXTS: Record<string, Partial<ArgvContext>> = {
  linux: { platform: 'linux', privateNetDir: '/tmp/vireo-1000-ab12/net', bridgeHelper: '/usr/lib/qemu/qemu-bridge-helper' },
  'linux-default-helper': { platform: 'linux', privateNetDir: '/tmp/vireo-1000-ab12/net' },
  macos: { platform: 'darwin', privateNetDir: '/var/folders/x/vireo-501-cd34/net' },
  windows: { platform: 'win32', privateNetDir: 'C:/Users/me/AppData/Local/Temp/vireo-ef56/net' },
};
// A TAP adapter is named by the person; Windows names may hold spaces and commas.
const windowsConfig = cfg({ name: 'net modes', networks: nics.map((n) => (n.id === 'net3' ? { ...n, bridge: 'OpenVPN TAP, 2' } : n)) });

const netArgv = (c: typeof config, over: Partial<ArgvContext>) => {
  const ctx = { ...base, ...over };
  return networkArgs(c, ctx, makeHelpers(c, ctx));
};

describe('network modes argv golden files per host platform', () => {
  for (const [name, over] of Object.entries(CONTEXTS)) {
    it(name, () => {
      const argv = netArgv(name === 'windows' ? windowsConfig : config, over);
      const file = join(GOLDEN, `${name}.argv.json`);
      if (update) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, JSON.stringify(argv, null, 2) + '\n');
      }
      if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with VIREO_UPDATE_GOLDEN=1 to create it`);
      expect(argv).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    });
  }
});

describe('network mode rules', () => {
  const devices = (argv: string[]) => argv.filter((_, i) => argv[i - 1] === '-device');
  const netdevs = (argv: string[]) => argv.filter((_, i) => argv[i - 1] === '-netdev');

  it('a card with no cable is the device alone: no netdev, the guest sees a card and no network', () => {
    const argv = netArgv(config, CONTEXTS.linux!);
    expect(devices(argv)).toContain('rtl8139,mac=52:54:00:00:02:04,id=nic4');
    expect(netdevs(argv).some((n) => n.includes('id=net4'))).toBe(false);
    // the first card keeps the network boot index whatever its mode
    expect(devices(argv)[0]).toMatch(/,bootindex=1$/);
  });

  it('host-only without root drops everything but the listed host ports, and keeps the forwards in', () => {
    const hostOnly = netdevs(netArgv(config, CONTEXTS.linux!)).find((n) => n.includes('id=net2'))!;
    expect(hostOnly.split(',')).toEqual([
      'user', 'id=net2', 'restrict=on', 'hostfwd=tcp:127.0.0.1:8022-:22',
      'guestfwd=tcp:10.0.2.100:8080-tcp:127.0.0.1:8080', 'guestfwd=tcp:10.0.2.100:5432-tcp:127.0.0.1:5432',
    ].join(',').split(','));
  });

  it('private cards of one network share the switch socket; another network has its own', () => {
    const two = cfg({ networks: [nics[1], { ...nics[2], mode: 'private', network: 'lab' }, { id: 'net5', mac: '52:54:00:00:02:05', mode: 'private', network: 'lab2' }] });
    const n = netdevs(netArgv(two, CONTEXTS.linux!));
    expect(n).toEqual([
      'stream,id=net1,server=off,addr.type=unix,addr.path=/tmp/vireo-1000-ab12/net/lab.sock',
      'stream,id=net2,server=off,addr.type=unix,addr.path=/tmp/vireo-1000-ab12/net/lab.sock',
      'stream,id=net5,server=off,addr.type=unix,addr.path=/tmp/vireo-1000-ab12/net/lab2.sock',
    ]);
  });

  it('refuses a private card when the engine named no switch folder (a bug, said as such)', () => {
    const c = cfg({ networks: [nics[1]] });
    const ctx = { ...base, privateNetDir: undefined };
    expect(() => buildArgv(c, ctx)).toThrow(VireoError);
    expect(() => buildArgv(c, ctx)).toThrow(/private network "lab".*no folder for its switch/);
  });

  it('the config refuses a bridged card without a bridge, a private card without a network, and a network name with a path in it', () => {
    const issues = (n: unknown) => {
      const r = Nic.safeParse(n);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ id: 'net0', mac: '52:54:00:00:00:01', mode: 'bridged' })).toEqual([expect.stringMatching(/^bridge: NIC net0 is bridged but names no bridge/)]);
    expect(issues({ id: 'net0', mac: '52:54:00:00:00:01', mode: 'private' })).toEqual([expect.stringMatching(/^network: NIC net0 is on a private network but names none/)]);
    expect(issues({ id: 'net0', mac: '52:54:00:00:00:01', mode: 'private', network: '../etc' })).toEqual([expect.stringMatching(/^network: network name: 1-32 letters/)]);
    expect(issues({ id: 'net0', mac: '52:54:00:00:00:01', mode: 'hostonly', hostPorts: [0] })).toHaveLength(1);
    // a NAT card parses as before: no new fields appear in its vm.json
    expect(Nic.parse({ id: 'net0', mac: '52:54:00:00:00:01' })).toEqual({ id: 'net0', mode: 'user', model: 'virtio-net-pci', mac: '52:54:00:00:00:01', portForwards: [] });
    expect(VmConfigSchema.safeParse({ ...config, networks: [{ id: 'net0', mac: '52:54:00:00:00:01', mode: 'bridged', bridge: '   ' }] }).success).toBe(false);
  });
});
