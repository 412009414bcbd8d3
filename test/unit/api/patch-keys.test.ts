import { describe, expect, it } from 'vitest';
import { VmConfigSchema } from '../../../electron/api/schemas/vm-config.ts';
import { assertKnownKeys, unknownKeys } from '../../../electron/engine/policy/patch-keys.ts';

// A settings patch is checked against the config schema itself, so a key the schema gains is
// known at once and a misspelt one is named instead of silently stripped.

describe('unknown settings keys', () => {
  it('names each unknown key by its path, inside objects and arrays', () => {
    const patch = JSON.parse(
      '{"sytem":{},"system":{"cpus":2,"cpuz":1},"disks":[{"id":"disk0","fiel":"x"}],"networks":[{"id":"net0","portForwards":[{"hostPort":1,"guestPort":2,"gp":3}]}],"cdrom":{"iso":null,"bogus":1},"name":"ok"}',
    );
    expect(unknownKeys(VmConfigSchema, patch)).toEqual(['sytem', 'system.cpuz', 'disks.0.fiel', 'networks.0.portForwards.0.gp', 'cdrom.bogus']);
  });

  it('does not take prototype names for keys', () => {
    expect(unknownKeys(VmConfigSchema, JSON.parse('{"__proto__":{},"constructor":{},"system":{"toString":1,"hasOwnProperty":2}}'))).toEqual([
      '__proto__',
      'constructor',
      'system.toString',
      'system.hasOwnProperty',
    ]);
  });

  it('accepts every key of a full config (a settings page that saves everything)', () => {
    const full = VmConfigSchema.parse({
      schemaVersion: 2,
      id: '00000000-0000-4000-8000-000000000000',
      name: 'x',
      createdAt: '2026-01-01T00:00:00Z',
      networks: [{ id: 'net0', mac: '52:54:00:12:34:56', portForwards: [{ hostPort: 2222, guestPort: 22 }] }],
      disks: [{ id: 'disk0', file: 'disk0.qcow2' }],
    });
    expect(unknownKeys(VmConfigSchema, JSON.parse(JSON.stringify(full)))).toEqual([]);
  });

  it('refuses with INVALID_ARGUMENT listing what is known at that level', () => {
    expect(() => assertKnownKeys(VmConfigSchema, { system: { cpuz: 1 } })).toThrow(/unknown setting "system\.cpuz": check the spelling \(known in system: .*cpus.*memoryMiB/);
    expect(() => assertKnownKeys(VmConfigSchema, { system: { cpus: 1 } })).not.toThrow();
  });
});
