import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { QemuImg } from '../../electron/engine/disk/qemu-img.ts';

// Issue 16, acceptance 1 and 5 on the real test guest under TCG, one VM for the whole file:
// started with a one-time CD boot, it gets a USB stick hot-plugged (the guest kernel lists it)
// and detached, a second disk hot-plugged, grown live and removed (file kept, then deleted),
// a saved host USB device auto-attached when it appears in (a copy of) sysfs, with snapshots
// saying why not meanwhile; then a reboot boots the saved order again.

const tmp = mkdtempSync(join(tmpdir(), 'vireo-usbhp-'));
const sysfs = join(tmp, 'sysfs');
const dev = join(tmp, 'dev');
let engine: Engine;
let vm: VmDetails;
let shell: SerialShell;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Ask the guest until its answer satisfies `ok` (the kernel probes new devices in its own time). */
async function guestUntil(cmd: string, ok: (out: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let out = '';
  while (Date.now() < end) {
    out = await shell.run(cmd, 30_000);
    if (ok(out)) return out;
    await sleep(1000);
  }
  throw new Error(`guest never answered as expected to ${cmd}; last answer:\n${out}`);
}
const blk = (out: string, name: string) => new RegExp(`^BLK ${name} (\\d+) `, 'm').exec(out)?.[1];

beforeAll(async () => {
  // The host list reads this copy of the captured sysfs tree (no USB bus on this machine).
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'sysfs-usb', 'devices'), sysfs, { recursive: true });
  process.env.VIREO_USB_SYSFS = sysfs;
  process.env.VIREO_USB_DEV = dev;
  engine = await tempEngine();
  vm = await createGuestVm(engine, 'devices');
  // Saved order: disk first; the start asks for the CD this once.
  await engine.client.call('vms.update', { vm: vm.id, patch: { boot: { order: ['disk', 'cdrom'] } } });
  const started = await engine.client.call('vms.start', { vm: vm.id, bootOnce: 'cdrom' });
  await waitForReady(vm, 180_000);
  shell = await SerialShell.connect(serialSocketOf(engine, started));
}, 240_000);

afterAll(async () => {
  shell?.close();
  delete process.env.VIREO_USB_SYSFS;
  delete process.env.VIREO_USB_DEV;
  await disposeEngine(engine);
  expect(qemuPidsFor([vm.id])).toEqual([]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('one-time CD boot', () => {
  it('boots the CD first this time, the saved order is untouched and the argv shows both', async () => {
    const d = await engine.client.call('vms.get', { vm: vm.id });
    expect(d.config!.boot.order).toEqual(['disk', 'cdrom']);
    const argv = d.runtime.argv!;
    expect(argv.find((a) => a.startsWith('ide-cd,') && a.includes('id=cdrom0'))).toContain('bootindex=1');
    expect(argv.find((a) => a.startsWith('ide-hd,') && a.includes('id=disk0-dev'))).toContain('bootindex=2');
    // What the firmware got for this boot (fw_cfg bootorder): the CD (AHCI port 1) before the disk (port 0).
    const order = await shell.run('bootorder');
    expect(order).toMatch(/^BOOTORDER \S*\/drive@1\/\S* \S*\/drive@0\/\S*/m);
  });
});

describe('USB storage stick, hot-plugged', () => {
  it('attaches live (the guest kernel sees it), and detach removes it', async () => {
    const stick = join(tmp, 'stick.img');
    await new QemuImg('qemu-img').create(stick, { format: 'raw', sizeBytes: 8 * 1024 ** 2 });
    const list = await engine.client.call('usb.attach', { vm: vm.id, device: stick, persist: false });
    expect(list).toEqual([expect.objectContaining({ kind: 'storage', file: stick, saved: false, live: true })]);
    const seen = await guestUntil('usbls', (o) => o.includes('46f4:0001'));
    expect(seen).toMatch(/^USB \d+-\d+ 46f4:0001 QEMU USB HARDDRIVE/m);
    // The VM's own disk is SATA (sda): the stick is the removable 8 MiB one.
    await guestUntil('blkls', (o) => /^BLK sd[b-z] 16384 removable=1 ro=0/m.test(o));
    expect((await engine.client.call('vms.get', { vm: vm.id })).config!.usb).toEqual([]); // this run only

    const after = await engine.client.call('usb.detach', { vm: vm.id, device: stick });
    expect(after).toEqual([]);
    await guestUntil('usbls', (o) => !o.includes('46f4:0001'));
    await guestUntil('blkls', (o) => !/^BLK sd[b-z] 16384 removable=1/m.test(o));
  });

  it('an emulated keyboard saved with the VM goes in live and into the config', async () => {
    const list = await engine.client.call('usb.attach', { vm: vm.id, device: 'keyboard' });
    expect(list).toEqual([expect.objectContaining({ id: 'usb1', kind: 'keyboard', saved: true, live: true })]);
    await guestUntil('usbls', (o) => /QEMU USB Keyboard/.test(o));
    expect((await engine.client.call('vms.get', { vm: vm.id })).config!.usb).toEqual([expect.objectContaining({ id: 'usb1', kind: 'keyboard' })]);
    await engine.client.call('usb.detach', { vm: vm.id, device: 'usb1' });
    await guestUntil('usbls', (o) => !/QEMU USB Keyboard/.test(o));
    expect((await engine.client.call('vms.get', { vm: vm.id })).config!.usb).toEqual([]);
  });
});

describe('host USB device: auto-attach and snapshots', () => {
  it('is saved while unplugged, attached when it appears, and blocks live snapshots meanwhile', async () => {
    const list = await engine.client.call('usb.attach', { vm: vm.id, device: '1-5' });
    expect(list).toEqual([expect.objectContaining({ kind: 'host', host: '1-5', saved: true, live: false })]);
    expect(list[0]!.note).toContain('not plugged in');
    const d = await engine.client.call('vms.get', { vm: vm.id });
    expect(d.snapshots.available).toBe(false);
    expect(d.snapshots.reason).toContain('passed through from the host');
    await expect(engine.client.call('snapshots.save', { vm: vm.id, name: 'x' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });

    // The device appears: its sysfs folder (copied from the captured mouse) and its node.
    cpSync(join(sysfs, '1-3.1'), join(sysfs, '1-5'), { recursive: true });
    writeFileSync(join(sysfs, '1-5', 'devpath'), '5\n');
    writeFileSync(join(sysfs, '1-5', 'devnum'), '9\n');
    mkdirSync(join(dev, '001'), { recursive: true });
    writeFileSync(join(dev, '001', '009'), '');
    const end = Date.now() + 20_000;
    let now = list;
    while (Date.now() < end && !now[0]?.live) {
      await sleep(500);
      now = await engine.client.call('usb.devices', { vm: vm.id });
    }
    // QEMU has the usb-host device now (it matches by bus 1 port 5, which no real device has here).
    expect(now).toEqual([expect.objectContaining({ id: 'usb1', host: '1-5', live: true, note: null })]);
    const host = await engine.client.call('usb.list', {});
    expect(host.devices.find((x) => x.address === '1-5')!.usedBy).toEqual([expect.objectContaining({ vmId: vm.id, usbId: 'usb1', live: true })]);

    await engine.client.call('usb.detach', { vm: vm.id, device: '1-5' });
    expect((await engine.client.call('vms.get', { vm: vm.id })).snapshots.available).toBe(true);
  });
});

describe('a second disk, hot-plugged', () => {
  it('is added live on a spare root port, the guest sees it, grows live, and is removed keeping its file', async () => {
    const added = await engine.client.call('drives.add', { vm: vm.id, size: '32M', bus: 'virtio' });
    const disk = added.config!.disks.at(-1)!;
    // The VM's first disk is SATA, so the hot-plugged virtio disk is the guest's first vd*.
    expect(disk).toMatchObject({ id: 'disk1', file: 'disk1.qcow2', bus: 'virtio' });
    expect(await guestUntil('blkls', (o) => blk(o, 'vda') !== undefined)).toMatch(/^BLK vda 65536 /m);

    await engine.client.call('drives.resize', { vm: vm.id, disk: 'disk1', size: '64M' });
    await guestUntil('blkls', (o) => blk(o, 'vda') === '131072');
    await expect(engine.client.call('drives.resize', { vm: vm.id, disk: 'disk1', size: '16M', shrink: true })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    // IDE/SATA cannot hot-plug: said, nothing created.
    await expect(engine.client.call('drives.add', { vm: vm.id, size: '8M', bus: 'sata' })).rejects.toMatchObject({ code: 'INVALID_STATE' });

    const file = join(added.dir, 'disk1.qcow2');
    const kept = await engine.client.call('drives.remove', { vm: vm.id, disk: 'disk1', deleteFile: false });
    expect(kept.config!.disks.map((x) => x.id)).toEqual(['disk0']);
    expect(kept.warnings.join('\n')).toContain('was kept');
    await guestUntil('blkls', (o) => blk(o, 'vda') === undefined);
    expect(existsSync(file)).toBe(true);

    // The kept image goes back in as an existing image, then out again with its file.
    const again = await engine.client.call('drives.add', { vm: vm.id, file, bus: 'virtio' });
    expect(again.config!.disks.at(-1)).toMatchObject({ file, format: 'qcow2' });
    expect(await guestUntil('blkls', (o) => blk(o, 'vda') !== undefined)).toMatch(/^BLK vda 131072 /m);
    await engine.client.call('drives.remove', { vm: vm.id, disk: 'disk1', deleteFile: true });
    await guestUntil('blkls', (o) => blk(o, 'vda') === undefined);
    expect(existsSync(file)).toBe(false);
  });
});

describe('a SCSI disk', () => {
  it('is hot-plugged onto a virtio-scsi controller the engine adds live, seen by the guest, and removed with its file', async () => {
    const before = await shell.run('blkls', 30_000);
    const sdBefore = new Set([...before.matchAll(/^BLK (sd[a-z]+) /gm)].map((m) => m[1]));
    const added = await engine.client.call('drives.add', { vm: vm.id, size: '16M', bus: 'scsi' });
    const disk = added.config!.disks.at(-1)!;
    expect(disk).toMatchObject({ bus: 'scsi' });
    // 16 MiB = 32768 sectors, on a new sd* the guest did not have before.
    const seen = await guestUntil('blkls', (o) => [...o.matchAll(/^BLK (sd[a-z]+) 32768 /gm)].some((m) => !sdBefore.has(m[1])));
    const name = [...seen.matchAll(/^BLK (sd[a-z]+) 32768 /gm)].map((m) => m[1]!).find((n) => !sdBefore.has(n))!;
    const file = join(added.dir, disk.file);
    await engine.client.call('drives.remove', { vm: vm.id, disk: disk.id, deleteFile: true });
    await guestUntil('blkls', (o) => blk(o, name) === undefined);
    expect(existsSync(file)).toBe(false);
    expect((await engine.client.call('vms.get', { vm: vm.id })).config!.disks.map((x) => x.bus)).toEqual(['sata']);
  });
});

describe('after the one-time boot', () => {
  it('the guest reboots with the saved order', async () => {
    await engine.client.call('vms.sendKeys', { vm: vm.id, keys: ['ctrl', 'alt', 'delete'] });
    await waitForReady(vm, 180_000, 1);
    const order = await guestUntil('bootorder', (o) => o.startsWith('BOOTORDER'));
    expect(order).toMatch(/^BOOTORDER \S*\/drive@0\/\S* \S*\/drive@1\/\S*/m);
    expect((await engine.client.call('vms.get', { vm: vm.id })).config!.boot.order).toEqual(['disk', 'cdrom']);
  }, 240_000);
});
