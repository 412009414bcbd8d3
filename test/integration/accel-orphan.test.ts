import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// An engine killed in the middle of its accelerator self-test must not leave the probe QEMU
// behind: under the broken KVM of these machines the probe never finishes by itself.

const root = join(import.meta.dirname, '..', '..');
const probeImage = join(root, 'resources', 'probe', 'probe.img');

function probePids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').some((a) => a.includes(probeImage)) && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('qemu-system');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('accelerator self-test', () => {
  it('its probe QEMU dies with an engine killed mid-test', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-orphan-'));
    const script = join(dir, 'selftest.mts');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      script,
      `import { selfTestAccelerators } from ${JSON.stringify(join(root, 'electron/engine/qemu/accel.ts'))};\n` +
        `await selfTestAccelerators({ binary: '/usr/bin/qemu-system-x86_64', probeImage: ${JSON.stringify(probeImage)}, force: true, onProgress: (p) => console.log(p.accel, p.phase) });\n`,
    );
    const before = new Set(probePids());
    // One process (no tsx wrapper, which would run the script in a child and survive us).
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    // Kill the engine once the KVM probe (the one that hangs here) has been started.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (/kvm start/.test(out)) resolve();
      });
      child.once('exit', () => reject(new Error(`self-test ended before the KVM probe started:\n${out}`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    const during = probePids().filter((p) => !before.has(p));
    expect(during.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && probePids().some((p) => !before.has(p))) await new Promise((r) => setTimeout(r, 100));
    expect(probePids().filter((p) => !before.has(p))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
