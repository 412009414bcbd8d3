import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Engine } from '../../electron/engine/index.ts';
import { IsoReader } from '../../electron/engine/osdetect/iso9660.ts';
import { disposeEngine, qemuPidsFor, tempEngine, waitForState } from './helpers.ts';
import { NETBOOT, haveNetboot, haveXorriso } from './unattended-helpers.ts';

// The answers CD's life (Ubuntu's cidata here; Windows' autounattend.xml CD goes the same way):
// written at creation (0600, label cidata, user-data with the autoinstall section and only the
// password's hash), attached during the install's first boot, and ejected and deleted when the
// VM starts the next time; the kernel and initrd go as soon as that first boot has started.
// The "Ubuntu ISO" is the netboot kernel and initrd at casper/ (only QEMU's start matters here).

async function isoFile(iso: string, path: string): Promise<string> {
  const r = await IsoReader.open(iso);
  try {
    const info = await r.readInfo();
    const e = (await r.findFile(info, path))!;
    return (await r.read(e.lba * 2048, e.size, path)).toString('utf8');
  } finally {
    await r.close();
  }
}

describe.skipIf(!haveNetboot || !haveXorriso)('express install: the answers CD', () => {
  let engine: Engine;
  let work: string;
  let iso: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vireo-ucd-'));
    mkdirSync(join(work, 'tree', 'casper'), { recursive: true });
    copyFileSync(join(NETBOOT, 'linux'), join(work, 'tree', 'casper', 'vmlinuz'));
    copyFileSync(join(NETBOOT, 'initrd.gz'), join(work, 'tree', 'casper', 'initrd'));
    iso = join(work, 'ubuntu.iso');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', iso, '-V', 'Ubuntu-Server 24.04 LTS amd64', '-J', '-R', join(work, 'tree')], { stdio: 'ignore' });
    engine = await tempEngine();
  }, 60_000);
  afterAll(async () => {
    await disposeEngine(engine);
    rmSync(work, { recursive: true, force: true });
  });

  it('is written, attached for the first boot, and removed at the next start', async () => {
    let vm = await engine.client.call('vms.create', {
      name: 'ubuntu express', iso, os: 'ubuntu24.04', memory: '256M', disk: '64M', cpus: 1,
      unattended: { user: 'tester', password: 'cd secret', hostname: 'cdbox' },
    });
    vm = await engine.client.call('vms.update', { vm: vm.id, patch: { networks: [] } });
    const answers = join(vm.dir, 'unattended', 'answers.iso');
    expect(vm.config!.cdrom.extra.map((d) => d.iso)).toEqual([answers]);
    expect(vm.config!.unattended!.append).toContain('autoinstall');
    expect(statSync(answers).mode & 0o777).toBe(0o600);
    const info = await (await IsoReader.open(answers)).readInfo();
    expect(info.primary.volumeId).toBe('cidata');
    const userData = await isoFile(answers, 'user-data');
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData).toMatch(/^autoinstall:$/m);
    expect(userData).toContain('username: "tester"');
    expect(userData).not.toContain('cd secret');
    expect(await isoFile(answers, 'meta-data')).toContain('local-hostname: cdbox');

    const first = await engine.client.call('vms.start', { vm: vm.id });
    expect(first.runtime.argv).toEqual(expect.arrayContaining(['-kernel', '-no-reboot']));
    expect(first.runtime.argv!.some((a) => a.includes(`filename=${answers}`))).toBe(true);
    let now = await engine.client.call('vms.get', { vm: vm.id });
    expect(now.config?.unattended).toBeNull();
    expect(existsSync(join(vm.dir, 'unattended', 'vmlinuz'))).toBe(false);
    expect(existsSync(answers)).toBe(true); // the installer reads it during this whole run
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    await waitForState(engine, vm.id, 'stopped');

    const second = await engine.client.call('vms.start', { vm: vm.id });
    expect(second.runtime.argv!.some((a) => a.includes('answers.iso'))).toBe(false);
    expect(second.runtime.argv).not.toContain('-kernel');
    now = await engine.client.call('vms.get', { vm: vm.id });
    expect(now.config?.cdrom.extra).toEqual([]);
    expect(existsSync(join(vm.dir, 'unattended'))).toBe(false);
    expect(readFileSync(join(vm.dir, 'vm.json'), 'utf8')).not.toContain('unattended/');
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    await waitForState(engine, vm.id, 'stopped');
    expect(qemuPidsFor([vm.id])).toEqual([]);
  }, 240_000);
});
