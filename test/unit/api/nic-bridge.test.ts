import { describe, expect, it } from 'vitest';
import { Nic } from '../../../electron/api/schemas/vm-config.ts';

// A bridge name reaches QEMU's argv and qemu-bridge-helper: control characters are refused.
describe('Nic.bridge', () => {
  const nic = (bridge: string) => Nic.safeParse({ id: 'net0', mode: 'bridged', mac: '52:54:00:12:34:56', bridge });
  it('takes an ordinary bridge or adapter name', () => {
    expect(nic('br0').success).toBe(true);
    expect(nic('Ethernet 2').success).toBe(true);
  });
  it('refuses control characters, naming the rule', () => {
    for (const bad of ['br\n0', 'br\x00', 'br\x1f', 'br\x7f']) {
      const r = nic(bad);
      expect(r.success).toBe(false);
      expect(JSON.stringify(r.error?.issues)).toContain('no control characters');
    }
  });
});
