import { describe, expect, it } from 'vitest';
import { VireoError } from '../../../electron/api/errors.ts';
import {
  decideAccel,
  detectPresence,
  MarkerReader,
  probeArgv,
  resolveAccel,
  sameCacheKey,
  PROBE_EXIT_CODE,
  type AccelCacheKey,
  type AccelName,
  type ProbeRun,
  type Presence,
} from '../../../electron/engine/qemu/accel.ts';
import type { QemuCaps } from '../../../electron/engine/qemu/capabilities.ts';

function finished(accel: AccelName, lm: number, workMs: number): ProbeRun {
  return {
    accel,
    ok: true,
    marks: { boot: lm - 2, lm, start: lm + 1, end: lm + 1 + workMs },
    elapsedMs: lm + workMs + 20,
    timedOut: false,
    deadlineMs: 3000,
    exitCode: PROBE_EXIT_CODE,
    stderr: '',
  };
}

function timedOut(accel: AccelName, deadlineMs: number, marks: ProbeRun['marks']): ProbeRun {
  return { accel, ok: false, marks, elapsedMs: deadlineMs, timedOut: true, deadlineMs, exitCode: null, stderr: '' };
}

const kvmPresent: Presence = { accel: 'kvm', present: true, presentReason: '/dev/kvm' };

describe('decideAccel', () => {
  it('picks KVM when its work is clearly faster than TCG', () => {
    const r = decideAccel(finished('tcg', 110, 80), [kvmPresent], [finished('kvm', 40, 4)]);
    expect(r.chosen).toBe('kvm');
    expect(r.reason).toMatch(/KVM passed its self-test/);
    expect(r.candidates.find((c) => c.accel === 'kvm')).toMatchObject({ ok: true, workMs: 4, bootMs: 40 });
  });

  it('rejects a KVM that finished but is slower than TCG, and says by how much', () => {
    const r = decideAccel(finished('tcg', 110, 12), [kvmPresent], [finished('kvm', 1500, 4600)]);
    expect(r.chosen).toBe('tcg');
    expect(r.reason).toBe(
      "KVM is present (/dev/kvm) but failed its self-test: the probe's work took 4.6 s under KVM vs 12 ms under TCG (nested virtualization without acceleration?); using TCG",
    );
    expect(r.candidates.find((c) => c.accel === 'kvm')).toMatchObject({ present: true, ok: false });
  });

  it('applies the half-of-TCG rule at its boundary', () => {
    expect(decideAccel(finished('tcg', 100, 80), [kvmPresent], [finished('kvm', 50, 40)]).chosen).toBe('tcg');
    expect(decideAccel(finished('tcg', 100, 80), [kvmPresent], [finished('kvm', 50, 39)]).chosen).toBe('kvm');
  });

  it('explains a KVM that timed out, by how far it got', () => {
    const r = decideAccel(finished('tcg', 106, 83), [kvmPresent], [timedOut('kvm', 3800, { boot: 3500, lm: 3502, start: 3503 })]);
    expect(r.chosen).toBe('tcg');
    expect(r.reason).toMatch(/^KVM is present \(\/dev\/kvm\) but failed its self-test: the probe's work did not finish within 3\.8 s under KVM, while under TCG it reached long mode after 106 ms and its work took 83 ms/);
    const none = decideAccel(finished('tcg', 106, 83), [kvmPresent], [timedOut('kvm', 3000, {})]);
    expect(none.candidates[1]!.error).toBe('the probe did not even start booting within 3.0 s');
  });

  it('reports QEMU refusing the accelerator', () => {
    const run: ProbeRun = {
      accel: 'kvm', ok: false, marks: {}, elapsedMs: 30, timedOut: false, deadlineMs: 3000, exitCode: 1,
      stderr: 'Could not access KVM kernel module: Permission denied\nqemu-system-x86_64: failed to initialize kvm: Permission denied',
      error: 'QEMU exited with code 1 before the probe finished: Could not access KVM kernel module: Permission denied',
    };
    const r = decideAccel(finished('tcg', 100, 80), [kvmPresent], [run]);
    expect(r.chosen).toBe('tcg');
    expect(r.reason).toMatch(/Permission denied/);
  });

  it('says why when no hardware accelerator exists', () => {
    const r = decideAccel(finished('tcg', 100, 80), [{ accel: 'kvm', present: false, presentReason: '/dev/kvm does not exist' }], []);
    expect(r.chosen).toBe('tcg');
    expect(r.reason).toBe('no hardware accelerator is available (KVM: /dev/kvm does not exist); using TCG');
    expect(r.candidates.map((c) => [c.accel, c.present, c.ok])).toEqual([['tcg', true, true], ['kvm', false, false]]);
  });

  it('trusts a finished hardware run when TCG itself failed', () => {
    const r = decideAccel(timedOut('tcg', 5000, { boot: 1 }), [{ accel: 'hvf', present: true, presentReason: 'macOS Hypervisor.framework' }], [finished('hvf', 30, 3)]);
    expect(r.chosen).toBe('hvf');
  });

  it('marks a present accelerator that ran out of budget as untested', () => {
    const r = decideAccel(finished('tcg', 100, 80), [kvmPresent], []);
    expect(r.chosen).toBe('tcg');
    expect(r.candidates[1]!.verdict).toMatch(/not tested/);
  });
});

describe('resolveAccel', () => {
  const failedKvm = decideAccel(finished('tcg', 110, 12), [kvmPresent], [finished('kvm', 1500, 4600)]);
  const noKvm = decideAccel(finished('tcg', 100, 80), [{ accel: 'kvm', present: false, presentReason: '/dev/kvm does not exist' }], []);

  it('follows the report for auto and honours an explicit TCG', () => {
    expect(resolveAccel('auto', failedKvm)).toEqual({ accel: 'tcg', reason: failedKvm.reason });
    expect(resolveAccel('tcg', failedKvm).accel).toBe('tcg');
  });

  it('allows an explicit KVM that failed its self-test, with a warning', () => {
    const r = resolveAccel('kvm', failedKvm);
    expect(r.accel).toBe('kvm');
    expect(r.warning).toMatch(/failed its self-test/);
    expect(r.reason).toMatch(/warning/);
  });

  it('refuses an explicit accelerator that is not present', () => {
    const attempt = (a: 'kvm' | 'hvf' | 'whpx') => {
      try {
        resolveAccel(a, noKvm);
        return null;
      } catch (e) {
        return e as VireoError;
      }
    };
    expect(attempt('kvm')).toMatchObject({ code: 'UNSUPPORTED' });
    expect(attempt('kvm')!.message).toMatch(/\/dev\/kvm does not exist/);
    expect(attempt('hvf')).toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('cache key', () => {
  const base: AccelCacheKey = {
    stamp: { path: '/usr/bin/qemu-system-x86_64', mtimeMs: 1700000000000, size: 1234 },
    qemuVersion: '7.2.22',
    kernel: '6.1.0-18-amd64',
    bootId: 'a1b2',
    probeSha256: 'ff',
  };
  it('matches itself and is invalidated by any part changing', () => {
    expect(sameCacheKey(base, structuredClone(base))).toBe(true);
    const changes: Array<Partial<AccelCacheKey>> = [
      { stamp: { ...base.stamp, mtimeMs: base.stamp.mtimeMs + 1 } },
      { stamp: { ...base.stamp, size: 1235 } },
      { stamp: { ...base.stamp, path: '/usr/local/bin/qemu-system-x86_64' } },
      { qemuVersion: '8.0.0' },
      { kernel: '6.1.0-19-amd64' },
      { bootId: 'c3d4' },
      { probeSha256: 'fe' },
    ];
    for (const c of changes) expect(sameCacheKey(base, { ...base, ...c })).toBe(false);
  });
});

describe('probe plumbing', () => {
  it('timestamps markers split across chunks and ignores firmware noise', () => {
    const r = new MarkerReader();
    r.feed('SeaBIOS (version 1.16)\r\nBooting from Floppy...\nVIREO-PRO', 10);
    r.feed('BE-BOOT\nVIREO-PROBE-LM\nVIREO-PROBE-WORK-ST', 12);
    r.feed('ART\n', 13);
    r.feed('VIREO-PROBE-WORK-END\r\n', 95);
    expect(r.marks).toEqual({ boot: 12, lm: 12, start: 13, end: 95 });
  });

  it('builds a probe argv with the exit device, the serial pipe and doubled commas', () => {
    const argv = probeArgv('kvm', '/tmp/a,b/probe.img');
    expect(argv).toContain('file=/tmp/a,,b/probe.img,format=raw,if=floppy,readonly=on');
    expect(argv.join(' ')).toMatch(/-accel kvm .*-device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial stdio/);
  });

  it('reports presence reasons without needing the accelerator', async () => {
    const caps: QemuCaps = { binary: '/q', version: '7.2.0', versionParts: [7, 2, 0], machines: [], devices: [], accels: ['tcg', 'kvm'] };
    expect(await detectPresence('kvm', caps, 'linux', '/nonexistent/kvm')).toMatchObject({ present: false, presentReason: expect.stringMatching(/does not exist/) });
    expect(await detectPresence('kvm', { ...caps, accels: ['tcg'] }, 'linux')).toMatchObject({ present: false, presentReason: expect.stringMatching(/built without KVM/) });
    expect(await detectPresence('hvf', caps, 'darwin')).toMatchObject({ present: false, presentReason: expect.stringMatching(/built without HVF/) });
    expect(await detectPresence('whpx', { ...caps, accels: ['tcg', 'whpx'] }, 'win32')).toMatchObject({ present: true });
    expect(await detectPresence('whpx', { ...caps, accels: ['tcg', 'whpx'] }, 'linux')).toMatchObject({ present: false });
  });
});
