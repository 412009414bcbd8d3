import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { HostUsbList, VmDetails, VmUsbDevice } from '../../electron/api/types.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// `vireo usb` and `vireo drive` as a user types them, and `vireo start --boot-once cdrom`,
// against an engine that owns the library (the CLI sends its calls to it).

const tmp = mkdtempSync(join(tmpdir(), 'vireo-cliusb-'));
let engine: Engine;
let vm: VmDetails;

beforeAll(async () => {
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'sysfs-usb', 'devices'), join(tmp, 'sysfs'), { recursive: true });
  process.env.VIREO_USB_SYSFS = join(tmp, 'sysfs');
  process.env.VIREO_USB_DEV = join(tmp, 'dev');
  engine = await tempEngine();
  vm = await createGuestVm(engine, 'cli-devices');
});
afterAll(async () => {
  delete process.env.VIREO_USB_SYSFS;
  delete process.env.VIREO_USB_DEV;
  await disposeEngine(engine);
  expect(qemuPidsFor([vm.id])).toEqual([]);
  rmSync(tmp, { recursive: true, force: true });
});

const json = async <T>(args: string[], code = 0): Promise<T> => {
  const r = await runVireo(engine.home, [...args, '--json']);
  expect(r.code, r.stderr).toBe(code);
  return JSON.parse(r.stdout) as T;
};

describe('vireo usb', () => {
  it('ls lists the host devices; attach and detach a keyboard on a stopped VM (saved)', async () => {
    const host = await json<HostUsbList>(['usb', 'ls']);
    expect(host.supported).toBe(true);
    expect(host.devices.map((d) => d.address)).toContain('1-3.2');
    const human = await runVireo(engine.home, ['usb', 'ls']);
    expect(human.stdout).toMatch(/^1-3\.2\t46f4:0001\tQEMU USB HARDDRIVE/m);

    const added = await json<VmUsbDevice[]>(['usb', 'attach', 'cli-devices', 'keyboard']);
    expect(added).toEqual([expect.objectContaining({ id: 'usb1', kind: 'keyboard', saved: true, live: false })]);
    expect(engine.vms.resolve(vm.id).config!.usb).toHaveLength(1);
    expect(await json<VmUsbDevice[]>(['usb', 'detach', 'cli-devices', 'keyboard'])).toEqual([]);
    // A device for this run only needs a running VM.
    const r = await runVireo(engine.home, ['usb', 'attach', 'cli-devices', 'mouse', '--temporary', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr || r.stdout)).toMatchObject({ code: 'INVALID_STATE' });
  });
});

describe('vireo drive', () => {
  it('adds a new disk, refuses rm without saying what happens to the file, removes it keeping the file', async () => {
    const d = await json<VmDetails>(['drive', 'add', 'cli-devices', '--size', '16M', '--bus', 'virtio']);
    expect(d.disks.map((x) => x.id)).toEqual(['disk0', 'disk1']);
    const file = join(d.dir, 'disk1.qcow2');
    expect(existsSync(file)).toBe(true);
    const usage = await runVireo(engine.home, ['drive', 'rm', 'cli-devices', 'disk1']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--keep-file or --delete-file');
    const kept = await json<VmDetails>(['drive', 'rm', 'cli-devices', 'disk1', '--keep-file']);
    expect(kept.disks.map((x) => x.id)).toEqual(['disk0']);
    expect(existsSync(file)).toBe(true);
  });
});

describe('vireo start --boot-once cdrom', () => {
  it('starts with the CD first in argv and leaves the saved order alone', async () => {
    await engine.client.call('vms.update', { vm: vm.id, patch: { boot: { order: ['disk', 'cdrom'] } } });
    const started = await json<VmDetails>(['start', 'cli-devices', '--boot-once', 'cdrom']);
    expect(started.config!.boot.order).toEqual(['disk', 'cdrom']);
    expect(started.runtime.argv!.find((a) => a.includes('id=cdrom0'))).toContain('bootindex=1');
    expect(started.runtime.argv!.find((a) => a.includes('id=disk0-dev'))).toContain('bootindex=2');
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    const bad = await runVireo(engine.home, ['start', 'cli-devices', '--boot-once', 'floppy']);
    expect(bad.code).toBe(2);
  });
});
