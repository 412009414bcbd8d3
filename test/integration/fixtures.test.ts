import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { copyFile, mkdir, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureFixtures, guestCmdline, GUEST_MARKERS, parseReady, SerialShell } from '../fixtures/guest.ts';

// Boots the test guest with plain QEMU (no engine code) to prove the guest protocol the
// other integration tests build on: markers, serial shell, counter, disk helpers, ACPI
// power button, Ctrl+Alt+Del, and the firmware/Secure Boot/TPM facts.

const OVMF = '/usr/share/OVMF';

interface Running {
  dir: string;
  qemu: ChildProcess;
  exited: Promise<number | null>;
  shell: SerialShell;
  qmpPath: string;
  startedAt: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function track(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return exited;
}

async function tempDir(): Promise<string> {
  // Unix socket paths must stay short, so not os.tmpdir()-relative deep paths.
  const dir = await mkdtemp('/tmp/vireo-');
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Firmware = 'bios' | 'uefi' | 'uefi-secureboot' | 'direct-kernel';
// Under TCG on a loaded 2-core host a boot can take a minute; READY normally comes far sooner.
const BOOT_TIMEOUT = 240_000;

async function boot(opts: { firmware: Firmware; tpm?: boolean; disk?: string }): Promise<Running> {
  const { iso, vmlinux, initrd } = await ensureFixtures();
  const dir = await tempDir();
  const serialPath = path.join(dir, 's.sock');
  const qmpPath = path.join(dir, 'q.sock');
  // GRUB under UEFI needs 63 MB contiguous for the kernel, which 256 MB does not leave.
  const mem = opts.firmware.startsWith('uefi') ? '384' : '256';
  const args = ['-accel', 'tcg', '-m', mem, '-nodefaults', '-display', 'none', '-vga', 'std'];
  if (opts.firmware === 'uefi') {
    await copyFile(`${OVMF}/OVMF_VARS_4M.fd`, path.join(dir, 'vars.fd'));
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF}/OVMF_CODE_4M.fd`);
    args.push('-drive', `if=pflash,format=raw,file=${path.join(dir, 'vars.fd')}`);
  } else if (opts.firmware === 'uefi-secureboot') {
    // Secure Boot firmware needs SMM (q35) so the variable store is protected from the guest;
    // the .ms VARS template has Microsoft's keys enrolled and Secure Boot on.
    await copyFile(`${OVMF}/OVMF_VARS_4M.ms.fd`, path.join(dir, 'vars.fd'));
    args.push('-machine', 'q35,smm=on', '-global', 'driver=cfi.pflash01,property=secure,value=on');
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF}/OVMF_CODE_4M.secboot.fd`);
    args.push('-drive', `if=pflash,format=raw,file=${path.join(dir, 'vars.fd')}`);
  }
  if (opts.tpm) {
    const stateDir = path.join(dir, 'tpm');
    const ctrl = path.join(dir, 't.sock');
    await mkdir(stateDir);
    const swtpm = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${stateDir}`, '--ctrl', `type=unixio,path=${ctrl}`, '--terminate'], {
      shell: false,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    track(swtpm);
    await waitForFile(ctrl, 10_000);
    args.push('-chardev', `socket,id=chrtpm,path=${ctrl}`, '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm', '-device', 'tpm-tis,tpmdev=tpm0');
  }
  if (opts.disk) args.push('-drive', `file=${opts.disk},format=raw,if=virtio`);
  if (opts.firmware === 'direct-kernel') args.push('-kernel', vmlinux, '-initrd', initrd, '-append', await guestCmdline());
  else args.push('-cdrom', iso);
  args.push('-chardev', `socket,id=s0,path=${serialPath},server=on,wait=off`, '-serial', 'chardev:s0');
  args.push('-qmp', `unix:${qmpPath},server=on,wait=off`);

  const startedAt = Date.now();
  const qemu = spawn('qemu-system-x86_64', args, { shell: false, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = track(qemu);
  void exited.then((code) => {
    if (code !== 0 && stderr) console.error(`qemu exited ${code}: ${stderr}`);
  });
  const shell = await SerialShell.connect(serialPath);
  cleanups.push(async () => shell.close());
  return { dir, qemu, exited, shell, qmpPath, startedAt };
}

/** Raw QMP: negotiate, run each command in order, return their `return` values. */
async function qmp(socketPath: string, commands: { execute: string; arguments?: object }[]): Promise<unknown[]> {
  const sock = createConnection(socketPath);
  sock.setEncoding('utf8');
  let buf = '';
  const lines: unknown[] = [];
  let wake: (() => void) | undefined;
  sock.on('data', (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) lines.push(JSON.parse(line));
    }
    wake?.();
  });
  const next = async (pred: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    for (;;) {
      const i = lines.findIndex((m) => pred(m as Record<string, unknown>));
      if (i >= 0) return lines.splice(i, 1)[0] as Record<string, unknown>;
      await new Promise<void>((r) => (wake = r));
    }
  };
  try {
    await next((m) => 'QMP' in m);
    const results: unknown[] = [];
    for (const [i, c] of [{ execute: 'qmp_capabilities' }, ...commands].entries()) {
      sock.write(JSON.stringify({ ...c, id: i }) + '\n');
      const reply = await next((m) => m.id === i);
      if ('error' in reply) throw new Error(`QMP ${c.execute} failed: ${JSON.stringify(reply.error)}`);
      if (i > 0) results.push(reply.return);
    }
    return results;
  } finally {
    sock.destroy();
  }
}

async function expectReady(vm: Running, label: string) {
  const boot = await vm.shell.waitFor(GUEST_MARKERS.boot, BOOT_TIMEOUT);
  const ready = await vm.shell.waitFor(GUEST_MARKERS.ready, BOOT_TIMEOUT);
  console.log(`${label}: boot to READY in ${((Date.now() - vm.startedAt) / 1000).toFixed(1)} s under TCG`);
  return { bootId: boot[1], facts: parseReady(ready[0]) };
}

async function powerOff(vm: Running) {
  await qmp(vm.qmpPath, [{ execute: 'system_powerdown' }]);
  await vm.shell.waitFor(GUEST_MARKERS.poweroff, 30_000);
  expect(await vm.exited).toBe(0);
}

describe('test guest fixture', () => {
  it('boots under BIOS: shell, counter, disk helpers, Ctrl+Alt+Del, power button', async () => {
    const dir = await tempDir();
    const disk = path.join(dir, 'disk.raw');
    await writeFile(disk, '');
    await truncate(disk, 1024 * 1024);
    const vm = await boot({ firmware: 'bios', disk });
    const { bootId, facts } = await expectReady(vm, 'BIOS');
    expect(facts).toEqual({ firmware: 'bios', secureboot: 'na', tpm: false });

    expect(await vm.shell.run('echo hi')).toBe('hi');
    expect(await vm.shell.run('echo one; echo two')).toBe('one\ntwo');
    expect(await vm.shell.run('true')).toBe('');

    const count = async () => Number(/^COUNTER (\d+)$/.exec(await vm.shell.run('counter'))?.[1]);
    const c1 = await count();
    await new Promise((r) => setTimeout(r, 2500));
    const c2 = await count();
    expect(c2).toBeGreaterThan(c1);

    await vm.shell.run('diskwrite hello vireo');
    expect(await vm.shell.run('diskread')).toBe('hello vireo');
    const fh = await open(disk, 'r');
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    await fh.close();
    expect(head.toString('latin1')).toBe('hello vireo\0');

    await qmp(vm.qmpPath, [{ execute: 'send-key', arguments: { keys: ['ctrl', 'alt', 'delete'].map((k) => ({ type: 'qcode', data: k })) } }]);
    await vm.shell.waitFor(GUEST_MARKERS.ctrlaltdel, 30_000);
    const again = await vm.shell.waitFor(GUEST_MARKERS.boot, BOOT_TIMEOUT);
    expect(again[1]).not.toBe(bootId);
    await vm.shell.waitFor(GUEST_MARKERS.ready, BOOT_TIMEOUT);
    expect(await vm.shell.run('echo back')).toBe('back');

    await powerOff(vm);
  }, 600_000);

  it('boots the uncompressed kernel directly (PVH)', async () => {
    const vm = await boot({ firmware: 'direct-kernel' });
    const { facts } = await expectReady(vm, 'direct kernel (PVH vmlinux)');
    expect(facts).toEqual({ firmware: 'bios', secureboot: 'na', tpm: false });
    expect(await vm.shell.run('cat /proc/cmdline')).toMatch(/console=ttyS0,115200/);
    await powerOff(vm);
  }, 300_000);

  it('boots under UEFI without Secure Boot', async () => {
    const vm = await boot({ firmware: 'uefi' });
    const { facts } = await expectReady(vm, 'UEFI');
    expect(facts).toEqual({ firmware: 'uefi', secureboot: '0', tpm: false });
    expect(await vm.shell.run('echo uefi')).toBe('uefi');
    await powerOff(vm);
  }, 300_000);

  it('boots under UEFI with Secure Boot (shim + Debian-signed GRUB and kernel)', async () => {
    const vm = await boot({ firmware: 'uefi-secureboot' });
    const { facts } = await expectReady(vm, 'UEFI Secure Boot');
    expect(facts).toEqual({ firmware: 'uefi', secureboot: '1', tpm: false });
    await powerOff(vm);
  }, 400_000);

  it('reports a TPM 2.0 from swtpm', async () => {
    const vm = await boot({ firmware: 'bios', tpm: true });
    const { facts } = await expectReady(vm, 'BIOS + TPM');
    expect(facts).toEqual({ firmware: 'bios', secureboot: 'na', tpm: true });
    expect(await vm.shell.run('cat /sys/class/tpm/tpm0/tpm_version_major')).toBe('2');
    await powerOff(vm);
  }, 300_000);
});

// Guard against a stale cache silently passing: the ISO must carry the volume id tests use.
it('ISO carries the VIREO_TESTGUEST volume id', async () => {
  const { iso } = await ensureFixtures();
  const fh = await open(iso, 'r');
  const volumeId = Buffer.alloc(32);
  // ISO 9660 primary volume descriptor at sector 16; the volume id is bytes 40..71.
  await fh.read(volumeId, 0, 32, 16 * 2048 + 40);
  await fh.close();
  expect(volumeId.toString('latin1').trim()).toBe('VIREO_TESTGUEST');
});
