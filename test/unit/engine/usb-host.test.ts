import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listHostUsb, matches, nodeAccess, permissionFix } from '../../../electron/engine/usb/host.ts';
import { loadUsbIds, parseUsbIds } from '../../../electron/engine/usb/ids.ts';

// The host list parser on a sysfs tree captured from a real kernel: this machine has no USB
// bus, so test/fixtures/sysfs-usb/devices was copied (attribute files only) out of the test
// guest booted with emulated xhci + ehci controllers, a keyboard, tablet, hub, mouse behind
// the hub and a storage stick (see test/fixtures/README.md, "sysfs-usb").

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'sysfs-usb', 'devices');
const tmp = mkdtempSync(join(tmpdir(), 'vireo-usb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A /dev/bus/usb with a node per fixture device, mode as given. */
function devRoot(mode: number): string {
  const dev = join(tmp, `dev-${mode.toString(8)}`);
  for (const [bus, num] of [[1, 2], [1, 3], [1, 4], [1, 5], [1, 6], [3, 2]]) {
    const dir = join(dev, String(bus).padStart(3, '0'));
    mkdirSync(dir, { recursive: true });
    const f = join(dir, String(num).padStart(3, '0'));
    writeFileSync(f, '');
    chmodSync(f, mode);
  }
  return dev;
}

describe('host USB list from sysfs', () => {
  const root = { uid: 0, gids: [0] };
  const list = listHostUsb({ sysfs: FIXTURE, dev: devRoot(0o664) }, { platform: 'linux', ids: null, who: root });

  it('lists every device, not root hubs or interfaces, by bus and port', () => {
    expect(list.supported).toBe(true);
    expect(list.namesFrom).toBe('device strings');
    expect(list.devices.map((d) => d.address)).toEqual(['1-1', '1-2', '1-3', '1-3.1', '1-3.2', '3-1']);
  });

  it('reads ids, names, serial, speed, port path and the device node', () => {
    const stick = list.devices.find((d) => d.address === '1-3.2')!;
    expect(stick).toMatchObject({ bus: 1, port: '3.2', vendorId: '46f4', productId: '0001', name: 'QEMU USB HARDDRIVE', manufacturer: 'QEMU', hub: false });
    expect(stick.devNode).toMatch(/\/001\/\d{3}$/);
    const hub = list.devices.find((d) => d.address === '1-3')!;
    expect(hub).toMatchObject({ hub: true, vendorId: '0409', productId: '55aa' });
    const kbd = list.devices.find((d) => d.address === '3-1')!;
    expect(kbd).toMatchObject({ bus: 3, name: 'QEMU USB Keyboard', speedMbps: 480 });
    expect(list.devices.find((d) => d.address === '1-1')!.serial).toBeTruthy();
  });

  it('matches saved devices by vendor:product or bus-port', () => {
    const mouse = list.devices.find((d) => d.address === '1-3.1')!;
    expect(matches('0627:0001', mouse)).toBe(true);
    expect(matches('1-3.1', mouse)).toBe(true);
    expect(matches('1-3', mouse)).toBe(false);
    expect(matches('0627:0002', mouse)).toBe(false);
  });

  it('names devices from usb.ids when the host has it', () => {
    const ids = parseUsbIds(['# comment', '0627  Adomax Technology Co., Ltd', '\t0001  QEMU Tablet', '46f4  QEMU', '\t0001  QEMU Disk', '\t\t00  interface line', 'C 00  (Defined at Interface level)', '0999  not a vendor'].join('\n'));
    const named = listHostUsb({ sysfs: FIXTURE, dev: devRoot(0o664) }, { platform: 'linux', ids, who: root });
    expect(named.namesFrom).toBe('usb.ids');
    expect(named.devices.find((d) => d.address === '1-3.2')!.name).toBe('QEMU QEMU Disk');
    expect(ids.vendor('0999')).toBeNull();
    // Not in usb.ids: the device's own strings.
    expect(named.devices.find((d) => d.address === '1-3')!.name).toBe('QEMU USB Hub');
    expect(loadUsbIds([join(tmp, 'nowhere.ids')])).toBeNull();
    // usb.ids knows the vendor but not this product (Debian's lists no 46f4 products): the
    // device's own strings, not the bare vendor name
    const vendorOnly = listHostUsb({ sysfs: FIXTURE, dev: devRoot(0o664) }, { platform: 'linux', ids: parseUsbIds('46f4  QEMU\n'), who: root });
    expect(vendorOnly.devices.find((d) => d.address === '1-3.2')!.name).toBe('QEMU USB HARDDRIVE');
  });

  it('explains a device node the user cannot open, with the exact udev rule', () => {
    const dev = devRoot(0o664);
    const user = { uid: 1000, gids: [1000] };
    const denied = listHostUsb({ sysfs: FIXTURE, dev }, { platform: 'linux', ids: null, who: user }).devices.find((d) => d.address === '1-3.2')!;
    expect(denied.access.ok).toBe(false);
    expect(denied.access.reason).toContain('mode 664');
    expect(denied.access.reason).toContain('uid 1000');
    expect(denied.access.fix).toContain('SUBSYSTEM=="usb", ATTR{idVendor}=="46f4", ATTR{idProduct}=="0001", TAG+="uaccess"');
    expect(denied.access.fix).toContain('/etc/udev/rules.d/70-vireo-usb.rules');
    expect(denied.access.fix).toContain('udevadm control --reload-rules');
    // In the node's group: group rw suffices; world-writable nodes open for anyone.
    const st = statSync(denied.devNode);
    expect(nodeAccess(denied.devNode, st, { uid: 1000, gids: [st.gid] }, '46f4', '0001').ok).toBe(true);
    const open = listHostUsb({ sysfs: FIXTURE, dev: devRoot(0o666) }, { platform: 'linux', ids: null, who: user }).devices;
    expect(open.every((d) => d.access.ok)).toBe(true);
    // A missing node is said as such, with no rule to add.
    const gone = listHostUsb({ sysfs: FIXTURE, dev: join(tmp, 'no-dev') }, { platform: 'linux', ids: null, who: user }).devices[0]!;
    expect(gone.access).toMatchObject({ ok: false, fix: null });
    expect(gone.access.reason).toContain('does not exist');
    expect(permissionFix('046d', 'c52b')).toContain('GROUP="plugdev"');
  });

  it('copes with a device unplugged mid-read and says "not yet" off Linux', () => {
    const sysfs = join(tmp, 'sysfs');
    cpSync(FIXTURE, sysfs, { recursive: true });
    mkdirSync(join(sysfs, '1-4')); // the folder stays a moment after its attributes went
    expect(listHostUsb({ sysfs, dev: devRoot(0o664) }, { platform: 'linux', ids: null, who: root }).devices.map((d) => d.address)).not.toContain('1-4');
    for (const platform of ['darwin', 'win32'] as const) {
      const l = listHostUsb({ sysfs: FIXTURE, dev: tmp }, { platform });
      expect(l).toMatchObject({ supported: false, devices: [] });
      expect(l.reason).toMatch(/^not yet on (macOS|Windows)/);
    }
    const none = listHostUsb({ sysfs: join(tmp, 'no-sysfs'), dev: tmp }, { platform: 'linux' });
    expect(none.supported).toBe(false);
    expect(none.reason).toContain('ENOENT');
  });
});
