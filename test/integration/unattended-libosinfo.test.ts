import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import type { Engine } from '../../electron/engine/index.ts';
import { libosinfoScriptFor, renderWithLibosinfo } from '../../electron/engine/unattended/libosinfo.ts';
import { runVireo } from './cli-helpers.ts';
import { disposeEngine, tempEngine } from './helpers.ts';
import { NETBOOT, haveNetboot, haveXorriso } from './unattended-helpers.ts';

// Express install with the host's libosinfo scripts (osinfo-install-script, libosinfo-bin):
// which OS and installer get one (the Linux ones; Windows and Ubuntu keep Vireo's templates), the answers handed over in a config file (never argv), and a
// real express install whose kickstart in the initrd is libosinfo's, not Vireo's template.
// Fedora 37 is in Debian 12's osinfo-db (20221203); Debian 12 itself is not, so it keeps
// Vireo's template (unattended-debian.test.ts).

const haveLibosinfo = spawnSync('osinfo-install-script', ['--help'], { stdio: 'ignore' }).status === 0;
const answers = { user: 'tester', password: 'p@ss w\\rd', hostname: 'ksbox', locale: 'de_DE.UTF-8', timezone: 'Europe/Berlin', keyboard: 'de' };

describe.skipIf(!haveLibosinfo)('express install through libosinfo', () => {
  it('finds a script per OS and installer kind, or says why Vireo\'s template is used', async () => {
    expect((await libosinfoScriptFor('fedora37', 'kickstart')).script).toEqual({ binary: 'osinfo-install-script', osId: 'fedora37', profile: 'jeos', file: 'fedora.ks' });
    expect((await libosinfoScriptFor('debian11', 'preseed')).script).toMatchObject({ profile: 'jeos', file: 'preseed.cfg' });
    // Windows and Ubuntu keep Vireo's templates, with the reason
    expect((await libosinfoScriptFor('win10', 'autounattend')).reason).toMatch(/BIOS only .*UEFI/);
    expect((await libosinfoScriptFor('ubuntu22.04', 'autoinstall')).reason).toMatch(/older installer, not Ubuntu's autoinstall/);
    expect((await libosinfoScriptFor('debian99', 'preseed')).reason).toMatch(/does not know debian99/);
    expect((await libosinfoScriptFor('fedora37', 'kickstart', '/nonexistent/osinfo-install-script')).reason).toMatch(/not installed .*libosinfo-bin/);
  });

  it('writes the answers through a private config file that it removes, escaping what the key file format would read otherwise', async () => {
    const work = mkdtempSync(join(tmpdir(), 'vireo-osinfo-'));
    try {
      const { script } = await libosinfoScriptFor('fedora37', 'kickstart');
      const text = await renderWithLibosinfo(script!, { ...answers, productKey: undefined }, { arch: 'x86_64' }, work);
      expect(text).toMatch(/--hostname=ksbox/);
      expect(text).toMatch(/timezone .*Europe\/Berlin/);
      expect(text).toContain("rootpw 'p@ss w\\rd'"); // the backslash survived the key file
      expect(text).toMatch(/^lang de_DE/m);
      expect(readdirSync(work)).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!haveLibosinfo || !haveNetboot || !haveXorriso)('a Fedora 37 express install answered by libosinfo', () => {
  let engine: Engine;
  let work: string;
  let iso: string;
  beforeAll(async () => {
    // A boot-ISO-shaped disc: Anaconda's kernel and initrd where Fedora's boot ISO has them
    // (the Debian netboot pair stands in: only the files' places and the answers matter here).
    work = mkdtempSync(join(tmpdir(), 'vireo-osinfo-vm-'));
    mkdirSync(join(work, 'tree', 'images', 'pxeboot'), { recursive: true });
    copyFileSync(join(NETBOOT, 'linux'), join(work, 'tree', 'images', 'pxeboot', 'vmlinuz'));
    copyFileSync(join(NETBOOT, 'initrd.gz'), join(work, 'tree', 'images', 'pxeboot', 'initrd.img'));
    iso = join(work, 'Fedora-Server-dvd-x86_64-37.iso');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', iso, '-V', 'Fedora-S-dvd-x86_64-37', '-J', '-R', join(work, 'tree')], { stdio: 'ignore' });
    engine = await tempEngine();
  }, 60_000);
  afterAll(async () => {
    await disposeEngine(engine);
    rmSync(work, { recursive: true, force: true });
  });

  it('puts libosinfo\'s kickstart into the installer\'s initrd, and says so before', async () => {
    const avail = await engine.client.call('unattended.availability', { os: 'fedora37' });
    expect(avail).toMatchObject({ available: true, installer: 'kickstart' });
    expect(avail.answersFrom).toMatch(/^the host's libosinfo \(jeos script fedora\.ks\)$/);
    const debian = await engine.client.call('unattended.availability', { os: 'debian12' });
    expect(debian.answersFrom).toMatch(/^Vireo's template preseed\.cfg \(/);

    const vm = await engine.client.call('vms.create', { name: 'fedora express', iso, os: 'fedora37', memory: '256M', disk: '64M', cpus: 1, unattended: answers });
    expect(vm.config!.unattended!.append).toContain('inst.ks=file:/ks.cfg');
    // The initrd is the disc's (gzip) with Vireo's member after it; gunzip reads both.
    const initrd = gunzipSync(readFileSync(join(vm.dir, vm.config!.unattended!.initrd))).toString('latin1');
    const at = initrd.lastIndexOf('ks.cfg');
    expect(at).toBeGreaterThan(0);
    const ks = initrd.slice(at);
    expect(ks).toMatch(/network --onboot yes --bootproto dhcp --hostname=ksbox/); // libosinfo's line
    expect(ks).not.toMatch(/network --bootproto=dhcp --activate/); // Vireo's template's line
    expect(JSON.stringify(vm.config)).not.toContain('p@ss');
    expect(readdirSync(join(vm.dir, 'unattended')).sort()).toEqual(['initrd', 'vmlinuz']);
  });

  it('vireo unattended OS names who writes the answers', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-osinfo-cli-'));
    try {
      const r = await runVireo(home, ['unattended', 'fedora37']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/answers written by the host's libosinfo \(jeos script fedora\.ks\)/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
