import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../electron/engine/index.ts';
import { detectOs, osTable, type DetectResult } from '../../electron/engine/osdetect/detect.ts';
import { chooseOsTable, extraOsDir, hostOsinfoDirs } from '../../electron/engine/osdetect/host-osinfo.ts';
import { IsoReader } from '../../electron/engine/osdetect/iso9660.ts';
import { PLATFORM_EFI, PLATFORM_X86, readBootCatalog } from '../../electron/engine/osdetect/eltorito.ts';
import { makeBootIso } from '../fixtures/osdetect/make-iso.ts';
import { disposeEngine, tempEngine } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// Issue #23 through real xorriso images: firmware from the disc's El Torito catalog, releases
// newer than the OS list named by their family's labels, and minimums that only warn unless
// the OS's installer refuses them — in detection, in vms.create and in the CLI.

let dir: string;
let engine: Engine;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-osd-found-'));
  engine = await tempEngine();
});
afterAll(async () => {
  await disposeEngine(engine);
  await rm(dir, { recursive: true, force: true });
});

async function detect(spec: Parameters<typeof makeBootIso>[1]): Promise<DetectResult> {
  return detectOs(await makeBootIso(dir, spec));
}

describe('El Torito boot catalog → firmware', () => {
  it('reads the catalog xorriso wrote: a BIOS default entry and an EFI section', async () => {
    const reader = await IsoReader.open(await makeBootIso(dir, { volumeId: 'CAT_TEST', bios: true, efi: true }));
    try {
      const cat = await readBootCatalog(reader);
      expect(cat?.entries.map((e) => [e.platform, e.bootable])).toEqual([[PLATFORM_X86, true], [PLATFORM_EFI, true]]);
      expect(cat!.entries[0]!.sectorCount).toBe(4);
    } finally {
      await reader.close();
    }
  });

  it('a BIOS-only Debian 12 disc gets BIOS, with the reason', async () => {
    const r = await detect({ volumeId: 'Debian 12.5.0 amd64 n', bios: true });
    expect(r).toMatchObject({ status: 'detected', id: 'debian12', firmware: 'bios', secureBoot: false, boot: { bios: true, efi: false } });
    expect(r.firmwareReason).toBe('This disc can only start with BIOS, so the VM uses BIOS');
  });

  it('the same OS on a disc with both entries gets UEFI', async () => {
    const r = await detect({ volumeId: 'Debian 12.5.0 amd64 n', bios: true, efi: true });
    expect(r).toMatchObject({ status: 'detected', id: 'debian12', firmware: 'uefi', boot: { bios: true, efi: true } });
    expect(r.firmwareReason).toBe('This disc can start with BIOS and with UEFI, so the VM uses UEFI');
  });

  it('an EFI-only disc gets UEFI even where the table says BIOS (Rocky 9), and an unknown OS still gets its disc\'s firmware', async () => {
    const rocky = await detect({ volumeId: 'Rocky-9-3-x86_64-dvd', efi: true });
    expect(rocky).toMatchObject({ status: 'detected', firmware: 'uefi', firmwareReason: 'This disc can only start with UEFI, so the VM uses UEFI' });
    const unknown = await detect({ volumeId: 'HOMEBREW_OS', efi: true });
    expect(unknown).toMatchObject({ status: 'unknown', firmware: 'uefi', boot: { bios: false, efi: true } });
  });

  it('what the OS needs outranks the disc: Windows 11 on a BIOS-only disc stays UEFI and says so', async () => {
    const r = await detect({ volumeId: 'Win12_25H2_English_x64', bios: true });
    expect(r).toMatchObject({ status: 'detected', firmware: 'uefi' });
    expect(r.firmwareReason).toMatch(/needs UEFI, so the VM uses UEFI — but this disc can only start with BIOS/);
  });

  it('vms.create uses the disc\'s firmware; `vireo detect-os` prints it with the reason', async () => {
    const iso = await makeBootIso(dir, { volumeId: 'Debian 12.5.0 amd64 n', bios: true });
    const vm = await engine.client.call('vms.create', { name: 'bios-only', iso, disk: '10G', memory: '512M', cpus: 1 });
    expect(vm.config!.system.firmware).toBe('bios');
    // named by the caller too (the wizard sends the detected id): still the disc's firmware
    const named = await engine.client.call('vms.create', { name: 'bios-only-named', iso, os: 'debian12', disk: '10G', memory: '512M', cpus: 1 });
    expect(named.config!.system.firmware).toBe('bios');
    const home = await mkdtemp(join(dir, 'home-'));
    const out = await runVireo(home, ['detect-os', iso]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Debian 12 (debian12)');
    expect(out.stdout).toContain('firmware: BIOS (This disc can only start with BIOS, so the VM uses BIOS)');
  });
});

describe('releases newer than the OS list: family and version from the disc\'s own naming', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['alpine-virt 3.21.0 x86_64', 'Alpine Linux 3.21', '3.21', /^alpinelinux3\./],
    ['ARCH_202506', 'Arch Linux 2025.06', '2025.06', /^archlinux$/],
    ['Fedora-S-dvd-x86_64-42', 'Fedora 42', '42', /^fedora\d+$/],
    ['Ubuntu 25.04 amd64', 'Ubuntu 25.04', '25.04', /^ubuntu\d/],
    ['Debian 13.0.0 amd64 n', 'Debian 13', '13', /^debian\d+$/],
    ['Rocky-10-0-x86_64-dvd', 'Rocky Linux 10.0', '10.0', /^rocky/],
    ['AlmaLinux-10-0-x86_64-dvd', 'AlmaLinux 10.0', '10.0', /^almalinux/],
    ['CentOS-Stream-10-BaseOS-x86_64', 'CentOS Stream 10', '10', /^centos-stream/],
    ['OL-10-0-0-BaseOS-x86_64', 'Oracle Linux 10.0', '10.0', /^ol\d/],
    ['openSUSE-Leap-16.0-DVD-x86_64', 'openSUSE Leap 16.0', '16.0', /^opensuse15\./],
    ['15_0_RELEASE_AMD64_CD', 'FreeBSD 15.0', '15.0', /^freebsd14/],
    ['OpenBSD/amd64 7.7 Install CD', 'OpenBSD 7.7', '7.7', /^openbsd/],
    ['NETBSD_100', 'NetBSD 10.0', '10.0', /^netbsd/],
    ['Win12_25H2_English_x64', 'Windows 12', '12', /^win11$/],
  ];
  for (const [label, name, version, template] of cases) {
    it(`"${label}" → ${name}`, async () => {
      const r = await detect({ volumeId: label, bios: true, efi: true });
      if (r.status !== 'detected') throw new Error(`not detected: ${r.reason}`);
      expect({ name: r.name, version: r.version }).toEqual({ name, version });
      expect(r.id).toMatch(template);
      expect(r.newerThanList).toMatch(/is newer than the systems Vireo knows by name; it gets the settings of /);
    });
  }

  it('a release the list knows keeps its own entry and no note', async () => {
    const r = await detect({ volumeId: 'Debian 12.5.0 amd64 n', bios: true });
    expect(r).toMatchObject({ id: 'debian12', name: 'Debian 12' });
    expect(r.status === 'detected' && r.newerThanList).toBeFalsy();
  });

  it('other ISO fields name it when the label does not: .treeinfo and .disk/info', async () => {
    const tree = await detect({ volumeId: 'INSTALL', bios: true, files: { '.treeinfo': '[header]\nversion = 1.2\n[release]\nname = Rocky Linux\nversion = 10.1\n' } });
    expect(tree).toMatchObject({ status: 'detected', name: 'Rocky Linux 10.1', version: '10.1' });
    const info = await detect({ volumeId: 'CDROM', bios: true, files: { '.disk/info': 'Debian GNU/Linux 13.1.0 "Trixie" - Official amd64 NETINST with firmware 20250906-10:22\n' } });
    expect(info).toMatchObject({ status: 'detected', name: 'Debian 13', version: '13' });
  });

  it('vms.create keeps the release\'s own name (the config says Fedora 42, not the template)', async () => {
    const iso = await makeBootIso(dir, { volumeId: 'Fedora-S-dvd-x86_64-42', bios: true, efi: true });
    const vm = await engine.client.call('vms.create', { name: 'fedora-new', iso, memory: '512M', disk: '20G', cpus: 1 });
    expect(vm.config!.os).toMatchObject({ name: 'Fedora 42', family: 'linux' });
    expect(vm.config!.system.firmware).toBe('uefi');
  });
});

describe('minimums: refuse only what the installer refuses', () => {
  it('MS-DOS 6.22 with a 512 MiB disk is created, with a warning', async () => {
    const vm = await engine.client.call('vms.create', { name: 'dos-small', os: 'msdos6.22', disk: '512M', memory: '32M', cpus: 1 });
    expect(vm.config!.os.id).toBe('msdos6.22');
    expect(vm.warnings).toContain('Microsoft MS-DOS 6.22 is usually installed on a disk of at least 1 GiB (this VM\'s is 512 MiB): it may run out of space');
    const home = engine.home;
    const cli = await runVireo(home, ['show', vm.id]);
    expect(cli.stdout).toContain('warning:  Microsoft MS-DOS 6.22 is usually installed on a disk of at least 1 GiB');
  });

  it('Windows 11 below what its setup checks is refused, naming the field, and nothing is created', async () => {
    const before = (await engine.client.call('vms.list', {})).length;
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ disk: '32G', memory: '4G', tpm: true, firmware: 'uefi' }, 'disk', /refuses disks smaller than 64 GiB/],
      [{ disk: '64G', memory: '2G', tpm: true, firmware: 'uefi' }, 'memory', /refuses less than 4 GiB of memory/],
      [{ disk: '64G', memory: '4G', tpm: false, firmware: 'uefi' }, 'tpm', /refuses PCs without a TPM 2.0/],
      [{ disk: '64G', memory: '4G', tpm: true, firmware: 'bios', secureBoot: false }, 'firmware', /refuses PCs that start with BIOS/],
    ];
    for (const [extra, field, msg] of cases) {
      await expect(engine.client.call('vms.create', { name: 'w11-small', os: 'win11', cpus: 1, ...extra })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field }, message: expect.stringMatching(msg) });
    }
    expect((await engine.client.call('vms.list', {})).length).toBe(before);
  });

  it('Debian 12 on a 2 GiB disk (below its advisory 10 GiB) is created with a warning', async () => {
    const vm = await engine.client.call('vms.create', { name: 'deb-small', os: 'debian12', disk: '2G', memory: '512M', cpus: 1 });
    expect(vm.warnings.some((w) => /Debian 12 is usually installed on a disk of at least 10 GiB/.test(w))).toBe(true);
    expect(vm.warnings.some((w) => /Debian 12 usually needs at least 1 GiB of memory/.test(w))).toBe(true);
  });
});

describe('a newer osinfo-db on the host outranks the bundled table', () => {
  const xml = (v: string) => `<?xml version="1.0"?>
<libosinfo version="0.0.1">
  <os id="http://fedoraproject.org/fedora/${v}">
    <short-id>fedora${v}</short-id>
    <name>Fedora Linux ${v}</name>
    <version>${v}</version>
    <vendor>Fedora Project</vendor>
    <family>linux</family>
    <distro>fedora</distro>
    <release-date>2099-04-15</release-date>
    <firmware arch="x86_64" type="efi"/>
    <media arch="x86_64">
      <iso><volume-id>Fedora-S-dvd-x86_64-${v}</volume-id></iso>
    </media>
    <resources arch="all"><minimum><ram>2147483648</ram><storage>16106127360</storage></minimum></resources>
  </os>
</libosinfo>
`;
  async function hostDb(version: string): Promise<string> {
    const root = await mkdtemp(join(dir, 'osinfo-'));
    await mkdir(join(root, 'os', 'fedoraproject.org'), { recursive: true });
    await writeFile(join(root, 'VERSION'), `${version}\n`);
    await writeFile(join(root, 'os', 'fedoraproject.org', 'fedora-99.xml'), xml('99'));
    return root;
  }

  it('the host database newer than the bundled one names the release itself; an older one is ignored', async () => {
    const iso = await makeBootIso(dir, { volumeId: 'Fedora-S-dvd-x86_64-99', bios: true, efi: true });
    const newer = chooseOsTable(osTable(), ['/nonexistent/osinfo', await hostDb('20991231')], extraOsDir());
    expect(newer.root).toBeDefined();
    const r = await detectOs(iso, newer.table);
    expect(r).toMatchObject({ status: 'detected', id: 'fedora99', name: 'Fedora Linux 99', minimum: { memoryMiB: 2048, diskGiB: 15 } });
    expect(r.status === 'detected' && r.newerThanList).toBeFalsy();
    // Vireo's own additions still ride on top of the host's database
    expect(newer.table.oses.some((o) => o.id === 'debian12')).toBe(true);

    const older = chooseOsTable(osTable(), [await hostDb('20200101')], extraOsDir());
    expect(older.root).toBeUndefined();
    // the bundled table does not know Fedora 99: the naming fallback says what it is
    expect(await detectOs(iso, older.table)).toMatchObject({ status: 'detected', name: 'Fedora 99' });
  });

  it('looks where osinfo-db is installed: the system, local, the user\'s, Homebrew', () => {
    const dirs = hostOsinfoDirs({ OSINFO_SYSTEM_DIR: '/srv/osinfo' }, '/home/u');
    expect(dirs).toEqual(['/srv/osinfo', '/usr/share/osinfo', '/usr/local/share/osinfo', '/home/u/.local/share/osinfo', '/opt/homebrew/share/osinfo', '/usr/local/opt/osinfo-db/share/osinfo']);
  });
});
