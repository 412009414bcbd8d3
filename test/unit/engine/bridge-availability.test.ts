import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allowedBridges, bridgeAvailability } from '../../../electron/engine/net/bridge.ts';
import { netModes } from '../../../electron/engine/net/handlers.ts';

// Bridged cards say exactly which piece the host lacks, with the command that fixes it: the
// helper's setuid bit, the ACL line in bridge.conf, the bridge itself. Real files in a temp
// folder stand in for /usr/lib/qemu, /etc/qemu and /sys/class/net.

function host({ setuid = true, conf = 'allow br0\n' as string | null, bridges = ['br0'], plain = [] as string[] } = {}) {
  const d = mkdtempSync(join(tmpdir(), 'vireo-br-'));
  const helper = join(d, 'qemu-bridge-helper');
  writeFileSync(helper, '');
  chmodSync(helper, setuid ? 0o4755 : 0o755);
  const confFile = join(d, 'bridge.conf');
  if (conf !== null) writeFileSync(confFile, conf);
  const sysNet = join(d, 'net');
  for (const b of bridges) mkdirSync(join(sysNet, b, 'bridge'), { recursive: true });
  for (const p of plain) mkdirSync(join(sysNet, p), { recursive: true });
  return { helper, conf: confFile, sysNet, dir: d };
}

describe('bridged availability with reasons', () => {
  it('is available when every piece is there', () => {
    const h = host();
    expect(bridgeAvailability('br0', { ...h, isRoot: false })).toEqual({ available: true, reason: null, helper: h.helper });
  });

  it('names the missing setuid bit with the chmod that fixes it (not needed as root)', () => {
    const h = host({ setuid: false });
    const r = bridgeAvailability('br0', { ...h, isRoot: false });
    expect(r.available).toBe(false);
    expect(r.reason).toContain(`is not setuid root`);
    expect(r.reason).toContain(`sudo chmod u+s ${h.helper}`);
    expect(bridgeAvailability('br0', { ...h, isRoot: true }).available).toBe(true);
  });

  it('names a missing or closed bridge.conf with the line to add', () => {
    const none = host({ conf: null });
    expect(bridgeAvailability('br0', { ...none, isRoot: true }).reason).toContain(`${none.conf} does not exist: \`echo 'allow br0' | sudo tee -a ${none.conf}\``);
    const other = host({ conf: 'allow virbr0\n# allow br0\n' });
    expect(bridgeAvailability('br0', { ...other, isRoot: true }).reason).toContain(`does not allow "br0"`);
    // include files and "allow all", as qemu-bridge-helper reads them
    const inc = host({ conf: 'include extra.conf\n' });
    writeFileSync(join(inc.dir, 'extra.conf'), 'allow all\n');
    expect(allowedBridges(inc.conf).allowed).toEqual(new Set(['all']));
    expect(bridgeAvailability('br0', { ...inc, isRoot: true }).available).toBe(true);
  });

  it('names a missing bridge, and an interface that is not a bridge, with how to make one', () => {
    const h = host({ bridges: [], plain: ['eth0'], conf: 'allow all\n' });
    expect(bridgeAvailability('br7', { ...h, isRoot: true }).reason).toContain('there is no bridge "br7" on this host: `sudo ip link add br7 type bridge');
    expect(bridgeAvailability('eth0', { ...h, isRoot: true }).reason).toContain('"eth0" is a network interface but not a bridge');
  });

  it('says when qemu-bridge-helper is not installed, and lists every missing piece at once', () => {
    const h = host({ conf: null, bridges: [] });
    const r = bridgeAvailability('br0', { ...h, helper: null, isRoot: false });
    expect(r.reason).toMatch(/qemu-bridge-helper is not installed: `sudo apt install qemu-system-common`.*does not exist.*there is no bridge "br0"/);
  });

  it('every mode says how this host provides it, per platform (vmnet on macOS, TAP on Windows)', () => {
    const mac = netModes('en0', 'darwin');
    expect(mac.find((m) => m.mode === 'hostonly')!.how).toMatch(/vmnet-host.*com\.apple\.vm\.networking/);
    expect(mac.find((m) => m.mode === 'bridged')!.how).toMatch(/vmnet-bridged/);
    const win = netModes('TAP', 'win32');
    expect(win.find((m) => m.mode === 'bridged')!.how).toMatch(/TAP adapter/);
    expect(win.find((m) => m.mode === 'private')).toMatchObject({ available: false, reason: expect.stringMatching(/^not yet on Windows/) });
    expect(netModes(undefined, 'linux').map((m) => m.mode)).toEqual(['user', 'private', 'hostonly', 'bridged', 'none']);
  });
});
