import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, serialSocketOf, waitForReady, waitForState } from './helpers.ts';

// The guest writes to its disk while the host disk under the library is full. QEMU pauses the
// guest rather than failing its write (BLOCK_IO_ERROR, then STOP); the engine says why — the
// state change carries the reason and vms.get warns — and once there is space again, a resume
// lets the guest finish its write.

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let home = '';
let mounted = false;
let engine: Engine | undefined;
let shell: SerialShell | undefined;
const filler = () => join(home, 'filler');

beforeAll(async () => {
  if (!isRoot) return;
  home = mkdtempSync(join(tmpdir(), 'vireo-gfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', home]);
  mounted = true;
  engine = await createEngine({ home });
});

afterAll(async () => {
  shell?.close();
  rmSync(filler(), { force: true });
  if (engine) {
    for (const v of engine.vms.list()) await engine.client.call('vms.stop', { vm: v.id, force: true }).catch(() => {});
    await engine.dispose();
  }
  if (mounted) execFileSync('umount', ['-l', home]);
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('a full host disk under a running guest (needs root for a tmpfs)', () => {
  it('pauses the guest with the reason, and a resume after freeing space lets its write finish', async () => {
    const vm = await createGuestVm(engine!, 'writer', { disk: '256M' });
    const started = await engine!.client.call('vms.start', { vm: vm.id });
    await waitForReady(started);
    shell = await SerialShell.connect(serialSocketOf(engine!, started));
    // Leave ~2 MiB: the guest's 24 MiB of direct writes must grow the qcow2 past it.
    const st = statfsSync(home);
    writeFileSync(filler(), Buffer.alloc(Math.max(0, Number(st.bavail) * Number(st.bsize) - 2 * 1024 ** 2)));

    const paused = waitForState(engine!, vm.id, 'paused', 60_000);
    // The first disk, as the fixture's disk helpers find it (virtio or SATA by OS defaults).
    shell.write('d=/dev/vda; [ -b $d ] || d=/dev/sda; dd if=/dev/urandom of=$d bs=1M count=24 conv=fsync; echo dd-$((40+2))\n');
    const ev = await paused.catch((e: Error) => {
      throw new Error(`${e.message}; guest said: ${shell!.text.slice(-600)}}`);
    });
    expect(ev.reason).toMatch(/no space left for disk .*free space on the host, then resume/);
    const d = await engine!.client.call('vms.get', { vm: vm.id });
    expect(d.state).toBe('paused');
    expect(d.warnings.join('\n')).toMatch(/no space left for disk/);

    rmSync(filler());
    await engine!.client.call('vms.resume', { vm: vm.id });
    await shell.waitFor(/dd-42/, 120_000);
    const after = await engine!.client.call('vms.get', { vm: vm.id });
    expect(after.state).toBe('running');
    expect(after.warnings.join('\n')).not.toMatch(/no space left/);
  });
});
