import { describe, expect, it } from 'vitest';
import { retargetDisks, targetAddress } from '../../../../electron/engine/remote/migrate.ts';
import { checkUri, isLocalUri } from '../../../../electron/engine/remote/virsh.ts';

describe('libvirt migration helpers', () => {
  it("takes the migration address from the target URI's host, or asks for one", () => {
    expect(targetAddress('qemu+ssh://root@west.lab:2222/system')).toBe('west.lab');
    expect(targetAddress('qemu+tls://10.0.0.2/system')).toBe('10.0.0.2');
    expect(targetAddress('qemu+unix:///session?socket=/x', '10.1.1.2')).toBe('10.1.1.2');
    expect(() => targetAddress('qemu:///session')).toThrow(/names no host: give the address/);
  });

  it('points only the named disks at their target paths (escaped as libvirt writes them)', () => {
    const xml = "<disk><source file='/a/b&amp;c.qcow2'/></disk><disk><source file='/a/iso.iso'/></disk>";
    expect(retargetDisks(xml, new Map([['/a/b&c.qcow2', '/t/x.qcow2']]))).toBe("<disk><source file='/t/x.qcow2'/></disk><disk><source file='/a/iso.iso'/></disk>");
  });

  it("points a Vireo-made serial's socket and log at the target's paths too", () => {
    const xml = "<serial type='unix'><source mode='bind' path='/src/pool/.vm-1.serial.sock'/><log file='/src/pool/.vm-1.serial.log' append='on'/></serial>";
    const out = retargetDisks(xml, new Map([['/src/pool/.vm-1.serial.sock', '/dst/pool/.vm-1.serial.sock'], ['/src/pool/.vm-1.serial.log', '/dst/pool/.vm-1.serial.log']]));
    expect(out).toBe("<serial type='unix'><source mode='bind' path='/dst/pool/.vm-1.serial.sock'/><log file='/dst/pool/.vm-1.serial.log' append='on'/></serial>");
  });

  it('tells local URIs (sockets on this machine) from remote ones, and refuses URIs that could run commands', () => {
    expect(isLocalUri('qemu:///session')).toBe(true);
    expect(isLocalUri('qemu+unix:///system?socket=/run/x')).toBe(true);
    expect(isLocalUri('qemu+ssh://me@server/system')).toBe(false);
    expect(checkUri('qemu+ssh://me@server/system?command=/bin/sh')).toMatch(/not accepted/);
    expect(checkUri('xen:///system')).toMatch(/not a QEMU\/KVM URI/);
    expect(checkUri('qemu+tls://server/system')).toBeNull();
  });
});
