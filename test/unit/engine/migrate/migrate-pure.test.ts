import { describe, expect, it } from 'vitest';
import { VmConfigSchema } from '../../../../electron/api/schemas/vm-config.ts';
import { baseConfig } from '../../../../electron/engine/library/library.ts';
import { parseVireoUri } from '../../../../electron/engine/migrate/channel.ts';
import { argvSmm, flashRefusals, liveRefusals, offlineRefusals, qemuRefusals } from '../../../../electron/engine/migrate/compat.ts';
import { parseSwtpmCapabilities } from '../../../../electron/engine/migrate/tpm-compat.ts';
import { safeRelative } from '../../../../electron/engine/migrate/files.ts';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationPsk, pairingFile, pairingSecret, proof, sameHex, sessionKey } from '../../../../electron/engine/migrate/pairing.ts';

// The pure pieces of Vireo↔Vireo moves (engine/migrate/): what may move live or offline and
// why not, the pairing's keys and proofs, the host address form, the paths a peer may send.

const vm = (patch: Record<string, unknown> = {}) => VmConfigSchema.parse({ ...baseConfig('6c56ad24-0740-4cab-a43b-2e3ab669dbea', 'm'), ...patch });

describe('what a live move refuses, each with its reason', () => {
  it('a plain NAT VM with BIOS and no snapshots moves', () => {
    expect(liveRefusals(vm(), 0)).toEqual([]);
  });
  it('a UEFI + TPM VM moves (its variables and TPM state ride in the migration stream)', () => {
    expect(liveRefusals(vm({ system: { ...vm().system, tpm: true, firmware: 'uefi', secureBoot: true, machine: 'q35' } }), 0)).toEqual([]);
  });
  it('names snapshots, shares, an ISO, extra arguments and a bridged card', () => {
    const c = vm({
      system: { ...vm().system, tpm: true, firmware: 'uefi' },
      shares: [{ tag: 'home', path: '/home' }],
      cdrom: { ...vm().cdrom, iso: '/isos/x.iso' },
      advanced: { extraArgs: ['-kernel', '/boot/vmlinuz'] },
      networks: [{ id: 'net0', mac: '52:54:00:12:34:56', mode: 'bridged', bridge: 'br0' }],
    });
    const r = liveRefusals(c, 2).join('\n');
    expect(r).not.toMatch(/TPM|UEFI/);
    for (const re of [/2 snapshots/, /shared folders \(home\)/, /\/isos\/x\.iso/, /extra QEMU arguments/, /net0 is bridged/]) expect(r).toMatch(re);
  });
  it('offline: snapshots, TPM and UEFI go with the folder; shares and a bridged card do not', () => {
    expect(offlineRefusals(vm({ system: { ...vm().system, tpm: true, firmware: 'uefi' } }))).toEqual([]);
    expect(offlineRefusals(vm({ shares: [{ tag: 'h', path: '/h' }] })).join()).toMatch(/shared folders/);
  });
  it("the target's QEMU must match: release, machine type, accelerator, CPU", () => {
    const a = { qemuVersion: '7.2.22', machineType: 'pc-q35-7.2-machine', accel: 'tcg', cpu: 'max' };
    expect(qemuRefusals(a, { ...a, qemuVersion: '7.2.5' })).toEqual([]);
    const r = qemuRefusals(a, { qemuVersion: '8.0.0', machineType: 'pc-q35-8.0-machine', accel: 'kvm', cpu: 'host' }).join('\n');
    for (const re of [/QEMU differs/, /machine type differs/, /accelerator differs/, /CPU model differs/]) expect(r).toMatch(re);
  });
  it("a TPM needs the same swtpm release on both sides, and UEFI the same SMM and flash sizes", () => {
    const a = { qemuVersion: '7.2.22', machineType: 'pc-q35-7.2-machine', accel: 'tcg', cpu: null, swtpm: '0.7.1', smm: false };
    expect(qemuRefusals(a, a)).toEqual([]);
    expect(qemuRefusals(a, { ...a, swtpm: '0.8.0' }).join()).toMatch(/swtpm differs: the source's TPM state is kept by swtpm 0\.7\.1, this host has 0\.8\.0/);
    expect(qemuRefusals(a, { ...a, swtpm: null }).join()).toMatch(/swtpm is not installed on this host/);
    expect(qemuRefusals({ ...a, swtpm: null }, a).join()).toMatch(/swtpm does not answer on the source/);
    expect(qemuRefusals(a, { ...a, smm: true }).join()).toMatch(/UEFI firmware differs: .*SMM/);
    // The same release on another libtpms: the state's RSA key sizes must be there.
    const f3 = { ...a, swtpmFeatures: ['tpm-2.0', 'rsa-keysize-2048', 'rsa-keysize-3072', 'cmdarg-seccomp'] };
    expect(qemuRefusals(f3, { ...f3, swtpmFeatures: ['tpm-2.0', 'rsa-keysize-2048', 'rsa-keysize-3072'] })).toEqual([]);
    expect(qemuRefusals(f3, { ...f3, swtpmFeatures: ['tpm-2.0', 'rsa-keysize-2048'] }).join()).toMatch(/source's supports rsa-keysize-3072, this host's does not/);
    // A VM without a TPM or UEFI asks neither.
    expect(qemuRefusals({ ...a, swtpm: undefined, smm: undefined }, { ...a, swtpm: null, smm: true })).toEqual([]);
    expect(flashRefusals({ code: 3653632, vars: 540672 }, { code: 3653632, vars: 540672 })).toEqual([]);
    const f = flashRefusals({ code: 3653632, vars: 540672 }, { code: 1966080, vars: 131072 }).join('\n');
    expect(f).toMatch(/code flash is 3653632 bytes, this host's 1966080/);
    expect(f).toMatch(/variable store differs: the source's is 540672 bytes, this host's firmware makes 131072/);
  });
  it("swtpm's release and features from --print-capabilities, and SMM from a command line", () => {
    const caps = '{ "type": "swtpm", "features": [ "tpm-1.2", "tpm-2.0", "cmdarg-seccomp", "rsa-keysize-2048", "rsa-keysize-3072" ], "version": "0.7.1" }';
    expect(parseSwtpmCapabilities(caps)).toEqual({ release: '0.7.1', features: ['tpm-1.2', 'tpm-2.0', 'cmdarg-seccomp', 'rsa-keysize-2048', 'rsa-keysize-3072'] });
    expect(parseSwtpmCapabilities('TPM emulator version 0.7.1')).toBeNull();
    expect(parseSwtpmCapabilities('{"type":"other","version":"1"}')).toBeNull();
    expect(argvSmm(['-global', 'driver=cfi.pflash01,property=secure,value=on'])).toBe(true);
    expect(argvSmm(['-machine', 'q35'])).toBe(false);
  });
});

describe('pairing', () => {
  it('a proof is bound to the role and the nonce, and checked in constant time', () => {
    const p = proof('s'.repeat(32), 'client', 'n1');
    expect(sameHex(p, proof('s'.repeat(32), 'client', 'n1'))).toBe(true);
    expect(sameHex(p, proof('s'.repeat(32), 'server', 'n1'))).toBe(false);
    expect(sameHex(p, proof('s'.repeat(32), 'client', 'n2'))).toBe(false);
    expect(sameHex(p, proof('t'.repeat(32), 'client', 'n1'))).toBe(false);
    expect(sameHex(undefined, p)).toBe(false);
  });
  it("the library's secret is kept (0600) across serves and replaced only on request (serve --rotate-pairing)", async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-h2pair-'));
    try {
      const a = await pairingSecret(home);
      expect(statSync(pairingFile(home)).mode & 0o777).toBe(0o600);
      expect(await pairingSecret(home)).toBe(a);
      const b = await pairingSecret(home, { rotate: true });
      expect(b).not.toBe(a);
      expect(await pairingSecret(home)).toBe(b);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
  it('each move has its own TLS-PSK key, and the session key differs from it', () => {
    const k1 = migrationPsk('s'.repeat(32), 'a'.repeat(32));
    expect(k1).toMatch(/^[0-9a-f]{64}$/);
    expect(migrationPsk('s'.repeat(32), 'b'.repeat(32))).not.toBe(k1);
    expect(sessionKey('s'.repeat(32), 'a'.repeat(16), 'a'.repeat(16)).toString('hex')).not.toBe(k1);
  });
});

describe('addresses and paths', () => {
  it('vireo://host:port, IPv6 in brackets; anything else is not a Vireo host', () => {
    expect(parseVireoUri('vireo://10.0.0.2:8080')).toEqual({ host: '10.0.0.2', port: 8080 });
    expect(parseVireoUri('vireo://[::1]:9/')).toEqual({ host: '::1', port: 9 });
    for (const bad of ['vireo://h', 'vireo://h:0', 'vireo://h:70000', 'http://h:1', 'vireo://user@h:1', 'vireo://h:1/x']) expect(parseVireoUri(bad)).toBeNull();
  });
  it('a peer may send only relative paths that stay inside the folder', () => {
    for (const ok of ['disk0.qcow2', 'tpm/tpm2-00.permall', 'snapshots/x/tpm/a']) expect(safeRelative(ok)).toBe(true);
    for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a', 'a/', 'a\\b', 'a\0b', 'x'.repeat(600)]) expect(safeRelative(bad)).toBe(false);
  });
});
