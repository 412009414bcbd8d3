import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'plist';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmConfig } from '../../electron/api/schemas/vm-config.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { run, runSettled } from '../../electron/engine/util/proc.ts';
import { ensureFixtures } from '../fixtures/guest.ts';
import { makeVbox7Ova, withCorruptManifest, type Vbox7Ova } from '../fixtures/ova/make-vbox7-ova.ts';
import { disposeEngine, qemuPidsFor, tempEngine, waitForReady, waitForState } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// Issue 22, acceptance 1 and 2: an OVA with the layout of a VirtualBox 7 export (fixture
// script, streamOptimized VMDK of the bootable test-guest disk) is previewed, imported and
// boots the test guest from that disk; a manifest whose digest does not match is refused naming
// the file, and leaves nothing; exported again to OVA and imported, it is the same config with
// an identical disk (qemu-img compare). Also: Vireo's bundle round trip (snapshot kept) and a
// VirtualBox library machine (.vbox + VDI). One guest boot in the file.

const fixtures = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures');
const bootDisk = join(fixtures, '.cache', 'cloud', 'cloudguest.qcow2');

let engine: Engine;
let work: string;
let ova: Vbox7Ova;
let imported: VmDetails;

const vmFolders = () => readdirSync(join(engine.home, 'vms'));
/** A config with what differs between two VMs by nature (identity, time, disk path) left out. */
const portable = (c: VmConfig | null | undefined) => {
  const { id: _i, name: _n, createdAt: _c, ...rest } = structuredClone(c!);
  return rest;
};

beforeAll(async () => {
  await ensureFixtures();
  await run('bash', [join(fixtures, 'cloud-image.sh')], { timeoutMs: 5 * 60_000 });
  work = mkdtempSync(join(tmpdir(), 'vireo-h1ova-'));
  ova = await makeVbox7Ova({ disk: bootDisk, outDir: join(work, 'vbox7'), name: 'ova-guest', cpus: 1, memoryMiB: 192 });
  engine = await tempEngine();
}, 300_000);

afterAll(async () => {
  const ids = engine?.vms.list().map((v) => v.id) ?? [];
  await disposeEngine(engine);
  expect(qemuPidsFor(ids)).toEqual([]);
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('OVA import (VirtualBox 7 layout)', () => {
  it('previews what it maps and what it drops', async () => {
    const p = await engine.client.call('appliance.preview', { path: ova.ova });
    expect(p).toMatchObject({ kind: 'ova', name: 'ova-guest', cpus: 1, memoryMiB: 192, firmware: 'bios', manifest: 'ova-guest.mf' });
    expect(p.os).toEqual({ id: 'debian12', name: 'Debian 12', family: 'linux' });
    expect(p.disks).toEqual([{ source: 'ova-guest-disk001.vmdk', bus: 'sata', capacityBytes: expect.any(Number) }]);
    expect(p.nics).toEqual([{ model: 'e1000', mode: 'user', mac: ova.mac }]);
    const mappedItems = p.mapped.map((m) => m.item);
    expect(mappedItems).toEqual(expect.arrayContaining(['OS', 'CPUs', 'memory', 'firmware', 'NIC 1', 'disk 1']));
    expect(p.mapped.find((m) => m.item === 'NIC 1')?.note).toMatch(/vbox:Machine/);
    expect(p.dropped.map((d) => d.item)).toEqual(expect.arrayContaining(['cdrom1', 'sound', 'USB controllers']));
    // A preview writes nothing.
    expect(vmFolders()).toEqual([]);
  });

  it('refuses a manifest whose digest does not match, naming the file, and leaves no VM and no files', async () => {
    const bad = await withCorruptManifest(ova, work, 'ova-guest-disk001.vmdk');
    const err = await engine.client.call('appliance.import', { path: bad }).catch((e: unknown) => e as { code: string; message: string; details: Record<string, unknown> });
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { file: 'ova-guest-disk001.vmdk', manifest: 'ova-guest.mf', reason: 'digest-mismatch' } });
    expect((err as { message: string }).message).toMatch(/^ova-guest-disk001\.vmdk does not match its SHA256 digest in ova-guest\.mf/);
    expect(engine.vms.list()).toEqual([]);
    expect(vmFolders()).toEqual([]);
    const jobs = await engine.client.call('jobs.list', {});
    expect(jobs.find((j) => j.kind === 'import')?.state).toBe('failed');
  });

  it('a cancelled import leaves no VM and no files', async () => {
    const off = engine.bus.on('job.update', (j) => {
      if (j.kind === 'import' && j.state === 'running') void engine.client.call('jobs.cancel', { id: j.id }).catch(() => {});
    });
    try {
      const err = await engine.client.call('appliance.import', { path: ova.ova, name: 'cancelled' }).catch((e: unknown) => e as { code: string });
      expect(err).toMatchObject({ code: 'CANCELLED' });
    } finally {
      off();
    }
    expect(engine.vms.list()).toEqual([]);
    expect(vmFolders()).toEqual([]);
  });

  it('imports it as a VM (disk converted to qcow2) that boots the test guest from that disk', async () => {
    imported = await engine.client.call('appliance.import', { path: ova.ova });
    const c = imported.config!;
    expect(c).toMatchObject({ name: 'ova-guest', os: { id: 'debian12' }, system: { cpus: 1, memoryMiB: 192, firmware: 'bios' } });
    expect(c.networks).toEqual([expect.objectContaining({ id: 'net0', model: 'e1000', mode: 'user', mac: ova.mac })]);
    expect(c.disks).toEqual([expect.objectContaining({ id: 'disk0', file: 'disk0.qcow2', format: 'qcow2', bus: 'sata' })]);
    // The disk holds what the VMDK held.
    expect((await runSettled('qemu-img', ['compare', '-f', 'vmdk', '-F', 'qcow2', ova.vmdk, join(imported.dir, 'disk0.qcow2')])).code).toBe(0);
    expect(readdirSync(imported.dir).filter((f) => f.startsWith('.'))).toEqual([]);
    const vm = await engine.client.call('vms.start', { vm: imported.id });
    await waitForReady(vm, 150_000);
    await engine.client.call('vms.stop', { vm: imported.id, force: true });
    await waitForState(engine, imported.id, 'stopped');
  }, 240_000);
});

describe('export', () => {
  it('to OVA and back: the same config and an identical disk', async () => {
    const out = join(work, 'exported.ova');
    const x = await engine.client.call('appliance.export', { vm: imported.id, format: 'ova', output: out });
    expect(x).toMatchObject({ path: out, format: 'ova' });
    expect((await engine.client.call('jobs.list', {})).find((j) => j.kind === 'export')).toMatchObject({ state: 'done', vmId: imported.id, title: 'Export "ova-guest" to exported.ova' });
    // An OVA any importer reads: a tar with the descriptor first, then the manifest, then the disk.
    const members = (await run('tar', ['-tf', out])).stdout.trim().split('\n');
    expect(members).toEqual(['exported.ovf', 'exported.mf', 'exported-disk1.vmdk']);
    const mf = (await run('tar', ['-xOf', out, 'exported.mf'])).stdout;
    expect(mf).toMatch(/^SHA256\(exported\.ovf\)= [0-9a-f]{64}\nSHA256\(exported-disk1\.vmdk\)= [0-9a-f]{64}\n$/);
    mkdirSync(join(work, 'x'));
    await run('tar', ['-xf', out, '-C', join(work, 'x')]);
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', join(work, 'x', 'exported-disk1.vmdk')])).stdout);
    expect(info['format-specific'].data['create-type']).toBe('streamOptimized');
    expect(readdirSync(work).filter((f) => f.endsWith('.partial'))).toEqual([]);

    const again = await engine.client.call('appliance.import', { path: out, name: 'ova-guest again' });
    expect(portable(again.config)).toEqual(portable(imported.config));
    const cmp = await runSettled('qemu-img', ['compare', join(imported.dir, 'disk0.qcow2'), join(again.dir, 'disk0.qcow2')]);
    expect(cmp.stdout).toMatch(/Images are identical/);
    expect(cmp.code).toBe(0);
    // An export never overwrites.
    await expect(engine.client.call('appliance.export', { vm: imported.id, format: 'ova', output: out })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  }, 180_000);

  it('to a Vireo bundle and back: config, disk and snapshot tree', async () => {
    await engine.client.call('snapshots.save', { vm: imported.id, name: 'clean' });
    const out = join(work, 'moved.vireo');
    await engine.client.call('appliance.export', { vm: imported.id, format: 'bundle', output: out });
    const p = await engine.client.call('appliance.preview', { path: out });
    expect(p).toMatchObject({ kind: 'bundle', name: 'ova-guest', cpus: 1 });
    const moved = await engine.client.call('appliance.import', { path: out, name: 'ova-guest moved' });
    expect(portable(moved.config)).toEqual(portable(imported.config));
    const tree = await engine.client.call('snapshots.list', { vm: moved.id });
    expect(tree.nodes.map((n) => n.name)).toEqual(['clean']);
    expect((await runSettled('qemu-img', ['compare', join(imported.dir, 'disk0.qcow2'), join(moved.dir, 'disk0.qcow2')])).code).toBe(0);
    // A bundle whose config names a host file as a disk is refused, and leaves nothing.
    const evil = join(work, 'evil');
    mkdirSync(evil);
    await run('tar', ['-xf', out, '-C', evil]);
    const manifest = JSON.parse(readFileSync(join(evil, 'vireo-bundle.json'), 'utf8'));
    manifest.config.disks[0].file = '/etc/hostname';
    writeFileSync(join(evil, 'vireo-bundle.json'), JSON.stringify(manifest));
    const members = (await run('tar', ['-tf', out])).stdout.trim().split('\n');
    await run('tar', ['-cf', join(work, 'evil.vireo'), '-C', evil, ...members]);
    const before = vmFolders().length;
    await expect(engine.client.call('appliance.import', { path: join(work, 'evil.vireo'), name: 'evil' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/names \/etc\/hostname, which is not a file of the bundle/) });
    expect(vmFolders().length).toBe(before);
  }, 180_000);
});

describe('VirtualBox library import', () => {
  it('reads a machine folder (.vbox + VDI) and converts its disk', async () => {
    const dir = join(work, 'VirtualBox VMs', 'Lib Guest');
    mkdirSync(dir, { recursive: true });
    const vdi = join(dir, 'Lib Guest.vdi');
    await run('qemu-img', ['convert', '-O', 'vdi', bootDisk, vdi]);
    const uuid = '6f1b2c3d-0000-4000-8000-00000000abcd';
    writeFileSync(join(dir, 'Lib Guest.vbox'), `<?xml version="1.0"?>
<VirtualBox xmlns="http://www.virtualbox.org/" version="1.19-linux">
  <Machine uuid="{0b0c0d0e-0000-4000-8000-000000000001}" name="Lib Guest" OSType="Ubuntu22_LTS_64" snapshotFolder="Snapshots">
    <MediaRegistry>
      <HardDisks>
        <HardDisk uuid="{${uuid}}" location="Lib Guest.vdi" format="VDI" type="Normal"/>
      </HardDisks>
    </MediaRegistry>
    <Hardware>
      <CPU count="2"/>
      <Memory RAMSize="256"/>
      <Firmware type="EFI"/>
      <Network>
        <Adapter slot="0" enabled="true" MACAddress="080027010203" type="virtio">
          <NAT/>
        </Adapter>
        <Adapter slot="1" enabled="true" MACAddress="080027010204" type="82540EM">
          <BridgedInterface name="eth0"/>
        </Adapter>
        <Adapter slot="2" enabled="false" MACAddress="080027010205" type="82540EM"/>
      </Network>
    </Hardware>
    <StorageControllers>
      <StorageController name="SATA" type="AHCI" PortCount="1">
        <AttachedDevice type="HardDisk" port="0" device="0">
          <Image uuid="{${uuid}}"/>
        </AttachedDevice>
      </StorageController>
    </StorageControllers>
  </Machine>
</VirtualBox>
`);
    const p = await engine.client.call('appliance.preview', { path: join(dir, 'Lib Guest.vbox') });
    expect(p).toMatchObject({ kind: 'vbox', name: 'Lib Guest', cpus: 2, memoryMiB: 256, firmware: 'uefi', os: { id: 'ubuntu22.04', family: 'linux' } });
    expect(p.nics).toEqual([{ model: 'virtio-net-pci', mode: 'user', mac: '08:00:27:01:02:03' }, { model: 'e1000', mode: 'user', mac: '08:00:27:01:02:04' }]);
    expect(p.dropped.map((d) => d.item)).toContain('NIC 2 attachment');
    const vm = await engine.client.call('appliance.import', { path: join(dir, 'Lib Guest.vbox') });
    expect(vm.config).toMatchObject({ name: 'Lib Guest', system: { cpus: 2, memoryMiB: 256, firmware: 'uefi' } });
    expect(vm.config!.disks).toEqual([expect.objectContaining({ file: 'disk0.qcow2', format: 'qcow2', bus: 'sata' })]);
    // UEFI: the VM got its own NVRAM.
    expect(readdirSync(vm.dir).some((f) => /^nvram\./.test(f))).toBe(true);
    expect((await runSettled('qemu-img', ['compare', '-f', 'vdi', '-F', 'qcow2', vdi, join(vm.dir, 'disk0.qcow2')])).code).toBe(0);
    expect(existsSync(vdi)).toBe(true);
    // The library as a list, through the API and the CLI.
    const lib = await engine.client.call('appliance.virtualbox', { dir: join(work, 'VirtualBox VMs') });
    expect(lib).toMatchObject({ note: null, machines: [{ name: 'Lib Guest', path: join(dir, 'Lib Guest.vbox'), cpus: 2, memoryMiB: 256, disks: 1, error: null }] });
    const cli = await runVireo(engine.home, ['import', '--virtualbox', join(work, 'VirtualBox VMs')]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^Lib Guest\tUbuntu 22\.04 LTS, 2 CPU, 256 MiB, 1 disk\t/);
    expect((await engine.client.call('appliance.virtualbox', { dir: join(work, 'nowhere') })).note).toMatch(/is not a folder/);
  }, 120_000);
});

describe('CLI', () => {
  it('vireo import --dry-run shows the mapping and creates nothing; vireo export and vireo import do the work; a bad manifest fails naming the file', async () => {
    const before = engine.vms.list().length;
    const dry = await runVireo(engine.home, ['import', '--dry-run', ova.ova]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^OVA /);
    expect(dry.stdout).toMatch(/mapped:\n(.*\n)* {2}CPUs: 1 {2}\(VirtualHardwareSection\)/);
    expect(dry.stdout).toMatch(/dropped:\n(.*\n)* {2}cdrom1: CD\/DVD drive/);
    expect(dry.stdout).toContain('manifest: ova-guest.mf');
    expect(engine.vms.list().length).toBe(before);
    const out = join(work, 'cli.ova');
    const x = await runVireo(engine.home, ['export', imported.id, '--format', 'ova', '-o', out]);
    expect(x.stderr).toBe('');
    expect(x.stdout).toMatch(new RegExp(`^wrote ${out.replace(/[.]/g, '\\.')} `));
    const i = await runVireo(engine.home, ['import', out, '--name', 'cli copy', '--json']);
    expect(i.code).toBe(0);
    expect(JSON.parse(i.stdout)).toMatchObject({ name: 'cli copy', config: { system: { cpus: 1, memoryMiB: 192 } } });
    const bad = await runVireo(engine.home, ['import', join(work, 'ova-guest-corrupt.ova'), '--name', 'never made']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ova-guest-disk001\.vmdk does not match its SHA256 digest in ova-guest\.mf/);
    expect(engine.vms.list().some((v) => v.name === 'never made')).toBe(false);
  }, 120_000);
});

describe('UTM import', () => {
  it('reads a .utm folder (config.plist, Data/ disk) and converts its disk', async () => {
    const dir = join(work, 'Lab Box.utm');
    mkdirSync(join(dir, 'Data'), { recursive: true });
    const img = join(dir, 'Data', '5A1B2C3D-0000-4000-8000-000000000001.qcow2');
    await run('qemu-img', ['convert', '-O', 'qcow2', bootDisk, img]);
    // UTM 4's configuration (format version 4), as its Configuration/*.swift encode it.
    writeFileSync(join(dir, 'config.plist'), build({
      Backend: 'QEMU',
      ConfigurationVersion: 4,
      Information: { Name: 'Lab Box', UUID: '0F0E0D0C-0000-4000-8000-000000000002', Icon: 'linux', IconCustom: false },
      System: { Architecture: 'x86_64', Target: 'q35', CPU: 'default', CPUCount: 2, MemorySize: 320, ForceMulticore: false, JITCacheSize: 0 },
      QEMU: { UEFIBoot: false, RNGDevice: true, BalloonDevice: false, TPMDevice: false, Hypervisor: true, AdditionalArguments: ['-device', 'whatever'] },
      Input: { UsbBusSupport: '3.0', UsbSharing: false, MaximumUsbShare: 3 },
      Sharing: { DirectoryShareMode: 'WebDAV', DirectoryShareReadOnly: false, ClipboardSharing: true },
      Display: [{ Hardware: 'virtio-vga', DynamicResolution: true, NativeResolution: false, UpscalingFilter: 'Linear', DownscalingFilter: 'Linear' }],
      Drive: [
        { ImageName: basename(img), ImageType: 'Disk', Interface: 'VirtIO', InterfaceVersion: 1, Identifier: '5A1B2C3D-0000-4000-8000-000000000001', ReadOnly: false },
        { ImageType: 'CD', Interface: 'IDE', InterfaceVersion: 1, Identifier: '5A1B2C3D-0000-4000-8000-000000000009', ReadOnly: true },
      ],
      Network: [{ Mode: 'Shared', Hardware: 'virtio-net-pci', MacAddress: '9E:6A:01:02:03:04', IsolateFromHost: false, PortForward: [] }],
      Serial: [],
      Sound: [{ Hardware: 'intel-hda' }],
    }));
    const p = await engine.client.call('appliance.preview', { path: dir });
    expect(p).toMatchObject({ kind: 'utm', name: 'Lab Box', cpus: 2, memoryMiB: 320, firmware: 'bios', manifest: null });
    expect(p.nics).toEqual([{ model: 'virtio-net-pci', mode: 'user', mac: '9e:6a:01:02:03:04' }]);
    expect(p.dropped.map((d) => d.item)).toEqual(expect.arrayContaining(['CD drive', 'sound', 'shared folders and clipboard']));
    const vm = await engine.client.call('appliance.import', { path: dir });
    expect(vm.config).toMatchObject({ name: 'Lab Box', arch: 'x86_64', system: { cpus: 2, memoryMiB: 320 }, advanced: { extraArgs: [] } });
    expect(vm.config!.disks).toEqual([expect.objectContaining({ file: 'disk0.qcow2', bus: 'virtio' })]);
    expect((await runSettled('qemu-img', ['compare', img, join(vm.dir, 'disk0.qcow2')])).code).toBe(0);
  }, 120_000);
});

describe('web mode (vireo serve) confinement', () => {
  const web = { kind: 'web' as const, roots: [] as string[], allowExtraArgs: false };
  it('an API client reaches only the library: appliances, their disks and export targets outside it are refused', async () => {
    expect(await engine.dispatch('appliance.preview', { path: ova.ova }, web)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect(await engine.dispatch('appliance.import', { path: ova.ova, name: 'web import' }, web)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect(await engine.dispatch('appliance.export', { vm: imported.id, format: 'ova', output: join(work, 'web.ova') }, web)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    // A .vbox inside the library whose disk lives outside it.
    const dir = join(engine.home, 'incoming');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Outside.vbox'), `<?xml version="1.0"?>
<VirtualBox xmlns="http://www.virtualbox.org/" version="1.19-linux">
  <Machine uuid="{0b0c0d0e-0000-4000-8000-000000000009}" name="Outside" OSType="Debian_64">
    <MediaRegistry><HardDisks><HardDisk uuid="{00000000-0000-4000-8000-0000000000aa}" location="${ova.vmdk}" format="VMDK"/></HardDisks></MediaRegistry>
    <Hardware><CPU count="1"/><Memory RAMSize="128"/></Hardware>
    <StorageControllers><StorageController name="SATA" type="AHCI"><AttachedDevice type="HardDisk" port="0" device="0"><Image uuid="{00000000-0000-4000-8000-0000000000aa}"/></AttachedDevice></StorageController></StorageControllers>
  </Machine>
</VirtualBox>
`);
    expect(await engine.dispatch('appliance.preview', { path: join(dir, 'Outside.vbox') }, web)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    // The same OVA inside the library is fine.
    copyFileSync(ova.ova, join(dir, 'inside.ova'));
    expect(await engine.dispatch('appliance.preview', { path: join(dir, 'inside.ova') }, web)).toMatchObject({ ok: true, result: { kind: 'ova', name: 'ova-guest' } });
  });
});
