import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostInfo, VmDetails } from '../../electron/api/types.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { qemuPidsFor } from './helpers.ts';

// Issue 7 from the user's side: `vireo create` on Windows install media picks the firmware,
// Secure Boot and TPM that Windows setup checks for, with no flags. The media are small real
// ISO 9660 images with the label Microsoft's media carry and a stand-in sources/install.wim
// whose XML names the build; nothing is started.

const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const cliMain = join(root, 'electron', 'cli', 'main.ts');
const GiB = 1024 ** 3;

let dir: string;
// One library for all: `host` runs the accelerator self-test once and caches it there.
let home: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-win11-'));
  home = join(dir, 'home');
  await mkdir(home);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function vireo(home: string, ...args: string[]) {
  const r = spawnSync(tsx, [cliMain, '--home', home, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A WIM header followed by its XML resource (UTF-16LE with BOM), which is all setup media detection reads. */
function fakeWim(build: string, edition: string): Buffer {
  const xml = Buffer.concat([
    Buffer.from([0xff, 0xfe]),
    Buffer.from(
      `<WIM><IMAGE INDEX="1"><NAME>${edition}</NAME><WINDOWS><ARCH>9</ARCH><INSTALLATIONTYPE>Client</INSTALLATIONTYPE>` +
        `<VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>${build}</BUILD></VERSION></WINDOWS></IMAGE></WIM>`,
      'utf16le',
    ),
  ]);
  const header = Buffer.alloc(208);
  header.write('MSWIM\0\0\0', 0, 'latin1');
  header.writeUInt32LE(208, 8); // header size
  header.writeUInt32LE(0x10d00, 12); // format version
  header.writeUInt32LE(1, 44); // image count
  // XML resource header at 72: 7-byte size + flags, then offset and original size.
  header.writeUInt32LE(xml.length, 72);
  header.writeBigUInt64LE(208n, 80);
  header.writeBigUInt64LE(BigInt(xml.length), 88);
  return Buffer.concat([header, xml]);
}

let isoCount = 0;
/** Windows setup media in miniature: Microsoft's volume id, publisher and system id, and install.wim. */
async function windowsIso(build: string, edition: string): Promise<string> {
  const n = ++isoCount;
  const tree = join(dir, `tree${n}`);
  await mkdir(join(tree, 'sources'), { recursive: true });
  await writeFile(join(tree, 'sources', 'install.wim'), fakeWim(build, edition));
  await writeFile(join(tree, 'setup.exe'), 'MZ');
  const iso = join(dir, `win${n}.iso`);
  await run('xorriso', ['-as', 'mkisofs', '-quiet', '-J', '-V', 'CCCOMA_X64FRE_EN-US_DV9', '-sysid', 'WIN32', '-publisher', 'MICROSOFT CORPORATION', '-o', iso, tree], {
    timeoutMs: 30_000,
  });
  return iso;
}

async function virtualSize(file: string): Promise<number> {
  const { stdout } = await run('qemu-img', ['info', '--output=json', file]);
  return (JSON.parse(stdout) as { 'virtual-size': number })['virtual-size'];
}

describe('vireo create on Windows install media', () => {
  it('Windows 11 (build 22621): UEFI with Secure Boot and Microsoft keys, TPM 2.0, q35, ≥ 4 GiB RAM, ≥ 64 GiB disk', async () => {
    const iso = await windowsIso('22621', 'Windows 11 Pro');
    const r = vireo(home, 'create', 'win11', '--iso', iso, '--json');
    expect(r.code, r.stderr).toBe(0);
    const vm = JSON.parse(r.stdout) as VmDetails;
    const c = vm.config!;
    expect(c.os.id).toBe('win11');
    expect(c.system).toMatchObject({ machine: 'q35', firmware: 'uefi', secureBoot: true, tpm: true });
    expect(c.system.memoryMiB).toBeGreaterThanOrEqual(4096);
    expect(c.cdrom.iso).toBe(iso);
    expect(c.disks).toHaveLength(1);
    expect(await virtualSize(join(vm.dir, c.disks[0]!.file))).toBeGreaterThanOrEqual(64 * GiB);

    // Windows' boot manager is signed by Microsoft: the VM's variable store must start from the
    // template with Microsoft's keys enrolled.
    const host = JSON.parse(vireo(home, 'host', '--json').stdout) as HostInfo;
    const enrolled = host.firmware.find((f) => f.secureBoot && f.enrolledKeys && f.vars);
    expect(enrolled).toBeDefined();
    await run('qemu-img', ['compare', '-q', '-f', 'raw', '-F', 'qcow2', enrolled!.vars!, join(vm.dir, 'nvram.qcow2')]);

    // Created, not started: no QEMU, no swtpm yet, no TPM state.
    expect(vm.state).toBe('stopped');
    expect(qemuPidsFor([vm.id])).toEqual([]);
    expect(existsSync(join(vm.dir, 'tpm', 'tpm2-00.permall'))).toBe(false);
  });

  it('Windows 10 (build 19045): UEFI without Secure Boot or TPM requirements', async () => {
    const iso = await windowsIso('19045', 'Windows 10 Pro');
    const r = vireo(home, 'create', 'win10', '--iso', iso, '--json');
    expect(r.code, r.stderr).toBe(0);
    const vm = JSON.parse(r.stdout) as VmDetails;
    expect(vm.config!.os.id).toBe('win10');
    expect(vm.config!.system).toMatchObject({ firmware: 'uefi', tpm: false, secureBoot: false });
    expect(existsSync(join(vm.dir, 'nvram.qcow2'))).toBe(true);
  });

  it('vireo host --json lists the UEFI firmware with their Secure Boot and enrolled-keys flags, and TPM support', async () => {
    const r = vireo(home, 'host', '--json');
    expect(r.code, r.stderr).toBe(0);
    const host = JSON.parse(r.stdout) as HostInfo;
    // Debian's ovmf: enrolled-keys SB (+SMM), SB without keys, and plain UEFI.
    expect(host.firmware).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ secureBoot: true, enrolledKeys: true, requiresSmm: true, features: expect.arrayContaining(['secure-boot', 'enrolled-keys']) }),
        expect.objectContaining({ secureBoot: true, enrolledKeys: false }),
        expect.objectContaining({ secureBoot: false, enrolledKeys: false, requiresSmm: false }),
      ]),
    );
    for (const f of host.firmware) {
      expect(existsSync(f.code) && !!f.vars && existsSync(f.vars), `${f.code} and ${f.vars} exist`).toBe(true);
    }
    expect(host.tpm).toMatchObject({ available: true, binary: 'swtpm', version: expect.stringMatching(/\d+\.\d+/) });
  });
});
