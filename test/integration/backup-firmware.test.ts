import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { BackupEntry } from '../../electron/api/backup-types.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { webCaller } from '../../electron/engine/policy/confine.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { runVireo } from './cli-helpers.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';

// A UEFI + TPM test guest with two disks: a live backup carries its variable store and swtpm's
// state beside both disks; restored to a new VM it is the same machine (every setting, new id
// and MACs) and boots with them; restored in place it gets them back; verify checks them,
// retention removes them, and a catalog or saved config edited in the backup folder cannot
// reach other files or settings a web client may not set. 384M: GRUB's UEFI build needs it.

let engine: Engine;
let vm: VmDetails;
let full: BackupEntry;
let shell: SerialShell | undefined;
const work = mkdtempSync(join(tmpdir(), 'vireo-bkfw-'));
const target = join(work, 'backups');
const dirOf = () => join(target, vm.id);
let tpmAtBackup: Buffer;

async function identical(a: string, b: string): Promise<boolean> {
  return (await run('qemu-img', ['compare', '-U', a, b], { okCodes: [0, 1] })).code === 0;
}

beforeAll(async () => {
  engine = await tempEngine();
  mkdirSync(target);
  vm = await createGuestVm(engine, 'bkfw', { firmware: 'uefi', tpm: true, secureBoot: false, memory: '384M' });
  await engine.client.call('drives.add', { vm: vm.id, size: '16M', format: 'qcow2' });
  vm = await engine.client.call('vms.start', { vm: vm.id });
  const ready = await waitForReady(vm, 180_000);
  expect(ready[0]).toMatch(/firmware=uefi .* tpm=1/);
  shell = await SerialShell.connect(serialSocketOf(engine, vm));
}, 240_000);

afterAll(async () => {
  shell?.close();
  const ids = engine ? engine.vms.list().map((v) => v.id) : [];
  await disposeEngine(engine);
  expect(qemuPidsFor(ids)).toEqual([]);
  await rm(work, { recursive: true, force: true });
}, 120_000);

describe('backups carry the UEFI variables and the TPM state', () => {
  it('a live backup holds both disks, the variable store and the TPM state; restored to a new VM it is the same machine and boots', async () => {
    await shell!.run('diskwrite bk-before');
    full = await engine.client.call('backup.run', { vm: vm.id, to: target });
    expect(full).toMatchObject({ type: 'full', state: 'good', source: 'running' });
    expect(full.disks.map((d) => d.disk)).toEqual(['disk0', 'disk1']);
    expect(full.firmware).toEqual({ nvram: `${full.id}-nvram.qcow2`, tpm: [`${full.id}-tpm__tpm2-00.permall`] });
    const files = readdirSync(dirOf());
    for (const f of [full.firmware!.nvram!, ...full.firmware!.tpm]) expect(files).toContain(f);
    tpmAtBackup = readFileSync(join(dirOf(), full.firmware!.tpm[0]!));
    expect(tpmAtBackup.length).toBeGreaterThan(0);
    expect(files.filter((f) => f.includes('-nvram.') || f.includes('-tpm__'))).toHaveLength(2);
    expect(full.bytes).toBeGreaterThan(full.disks.reduce((s, d) => s + d.bytes, 0));

    // Changed after the backup: the restore must not see it.
    await shell!.run('diskwrite bk-after');
    shell!.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });

    const src = engine.vms.resolve(vm.id).config!;
    const copy = await engine.client.call('backup.restore', { vm: vm.id, newName: 'bkfw-restored' });
    const c = engine.vms.resolve(copy.id).config!;
    expect(c.id).not.toBe(src.id);
    expect({ system: c.system, display: c.display, os: c.os, cdrom: c.cdrom.iso }).toEqual({ system: src.system, display: src.display, os: src.os, cdrom: src.cdrom.iso });
    expect(c.networks.map((n) => [n.id, n.model, n.mode])).toEqual(src.networks.map((n) => [n.id, n.model, n.mode]));
    expect(c.networks.map((n) => n.mac).filter((m) => src.networks.some((s) => s.mac === m))).toEqual([]);
    expect(c.disks.map((d) => [d.id, d.bus, d.format])).toEqual(src.disks.map((d) => [d.id, d.bus, 'qcow2']));
    for (const d of full.disks) expect(await identical(copy.disks.find((x) => x.id === d.disk)!.path, join(dirOf(), d.file))).toBe(true);
    expect(await identical(join(copy.dir, 'nvram.qcow2'), join(dirOf(), full.firmware!.nvram!))).toBe(true);
    expect(readFileSync(join(copy.dir, 'tpm', 'tpm2-00.permall')).equals(tpmAtBackup)).toBe(true);

    // It boots on its own variable store and TPM state, with the disk as it was at the backup.
    const started = await engine.client.call('vms.start', { vm: copy.id });
    expect((await waitForReady(started, 180_000))[0]).toMatch(/firmware=uefi .* tpm=1/);
    shell = await SerialShell.connect(serialSocketOf(engine, started));
    expect(await shell.run('diskread')).toBe('bk-before');
    shell.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: copy.id, force: true });
    await engine.client.call('vms.delete', { vm: copy.id });
  }, 420_000);

  it('a restore in place (stopped) puts the variable store and the TPM state back with the disks', async () => {
    const entry = engine.vms.resolve(vm.id);
    writeFileSync(join(entry.paths.tpmState, 'tpm2-00.permall'), 'changed since');
    writeFileSync(join(entry.paths.tpmState, 'stray'), 'x');
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 64k', join(vm.dir, 'nvram.qcow2')]);
    expect(await identical(join(vm.dir, 'nvram.qcow2'), join(dirOf(), full.firmware!.nvram!))).toBe(false);

    await engine.client.call('backup.restore', { vm: vm.id, backup: full.id });
    expect(await identical(join(vm.dir, 'nvram.qcow2'), join(dirOf(), full.firmware!.nvram!))).toBe(true);
    expect(readdirSync(entry.paths.tpmState)).toEqual(['tpm2-00.permall']);
    expect(readFileSync(join(entry.paths.tpmState, 'tpm2-00.permall')).equals(tpmAtBackup)).toBe(true);
    for (const d of full.disks) expect(await identical(engine.vms.diskPath(entry, entry.config!.disks.find((x) => x.id === d.disk)!.file), join(dirOf(), d.file))).toBe(true);
    expect(readdirSync(vm.dir).filter((f) => f.includes('.partial') || f.startsWith('.tpm-restore'))).toEqual([]);
  }, 120_000);

  it('verify checks the firmware files; a missing one is named', async () => {
    const ok = await engine.client.call('backup.verify', { vm: vm.id, backup: full.id });
    expect(ok).toMatchObject({ ok: true, message: expect.stringMatching(/restored 2 disk\(s\) from 2 file\(s\) and compared: identical; UEFI variables and TPM state checked/) });
    expect(ok.files).toEqual(expect.arrayContaining([full.firmware!.nvram!, ...full.firmware!.tpm]));
    const tpmFile = join(dirOf(), full.firmware!.tpm[0]!);
    const saved = readFileSync(tpmFile);
    rmSync(tpmFile);
    const bad = await engine.client.call('backup.verify', { vm: vm.id, backup: full.id });
    expect(bad).toMatchObject({ ok: false, message: expect.stringContaining(`${full.firmware!.tpm[0]}: missing or unreadable`) });
    writeFileSync(tpmFile, saved);
  }, 120_000);

  it('an edited catalog or saved config in the backup folder reaches no other file and no setting a web client may not set; nothing is created', async () => {
    const vmJson = join(dirOf(), `${full.id}.vm.json`);
    const original = readFileSync(vmJson, 'utf8');
    const cfg = JSON.parse(original) as { advanced: { extraArgs: string[] } };
    cfg.advanced.extraArgs = ['-device', 'pci-testdev'];
    writeFileSync(vmJson, JSON.stringify(cfg));
    const web = webCaller({ media: [work] });
    await expect(engine.handlers['backup.restore']({ vm: vm.id, backup: full.id, newName: 'bkfw-web' }, web)).rejects.toMatchObject({ message: expect.stringMatching(/advanced\.extraArgs/) });
    writeFileSync(vmJson, original);
    expect(engine.vms.list().map((v) => v.name)).not.toContain('bkfw-web');

    const catFile = join(dirOf(), 'catalog.json');
    const cat = readFileSync(catFile, 'utf8');
    writeFileSync(catFile, cat.replace(`"${full.firmware!.tpm[0]}"`, '"../../../../etc/passwd"'));
    await expect(engine.client.call('backup.restore', { vm: vm.id, backup: full.id, newName: 'bkfw-evil' })).rejects.toMatchObject({ code: 'BROKEN_CONFIG', message: expect.stringMatching(/not a file name Vireo writes/) });
    writeFileSync(catFile, cat);
    expect(engine.vms.list().map((v) => v.name)).not.toContain('bkfw-evil');
    const vmsDir = join(engine.home, 'vms');
    if (existsSync(vmsDir)) expect(readdirSync(vmsDir).filter((f) => f.startsWith('.creating-'))).toEqual([]);
  }, 120_000);

  it('retention removes a pruned backup\'s firmware files with its disks', async () => {
    const second = await engine.client.call('backup.run', { vm: vm.id });
    expect(second.firmware?.tpm).toEqual([`${second.id}-tpm__tpm2-00.permall`]);
    const pruned = await engine.client.call('backup.prune', { vm: vm.id, daily: 1, weekly: 0 });
    expect(pruned.removed).toEqual([full.id]);
    const left = readdirSync(dirOf());
    expect(left.filter((f) => f.startsWith(full.id))).toEqual([]);
    expect(left).toEqual(expect.arrayContaining([second.firmware!.nvram!, ...second.firmware!.tpm]));
    // What each backup holds, in the CLI's list.
    const ls = await runVireo(engine.home, ['backup', 'ls', 'bkfw']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(new RegExp(`${second.id}\\s+full\\s+good\\s+2 disks, UEFI variables, TPM state`));
  }, 120_000);
});
