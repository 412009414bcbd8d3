import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VireoError } from '../../electron/api/errors.ts';
import { detectOs, type DetectResult } from '../../electron/engine/osdetect/detect.ts';
import { IsoReader } from '../../electron/engine/osdetect/iso9660.ts';
import { findUdfFile, readUdfFile } from '../../electron/engine/osdetect/udf.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Real images made by xorriso with the labels the real install media carry (patterns from
// osinfo-db), then detected through the whole path: file handle, descriptors, table, defaults.

let dir: string;
let n = 0;

interface IsoSpec {
  volumeId: string;
  systemId?: string;
  publisher?: string;
  application?: string;
  /** files to put on the image: path → content */
  files?: Record<string, Buffer | string>;
}

async function makeIso(spec: IsoSpec): Promise<string> {
  const root = join(dir, `root${++n}`);
  const out = join(dir, `img${n}.iso`);
  await mkdir(root, { recursive: true });
  const files = spec.files ?? { 'README.TXT': 'vireo test media\n' };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const args = ['-as', 'mkisofs', '-quiet', '-J', '-V', spec.volumeId, '-sysid', spec.systemId ?? 'LINUX'];
  if (spec.publisher) args.push('-publisher', spec.publisher);
  if (spec.application) args.push('-A', spec.application);
  args.push('-o', out, root);
  await run('xorriso', args, { timeoutMs: 30_000 });
  return out;
}

/** A minimal WIM: header + UTF-16LE XML resource, as Windows setup media carry in sources/. */
function fakeWim(build: string, editions: string[], installationType = 'Client'): Buffer {
  const images = editions
    .map(
      (e, i) =>
        `<IMAGE INDEX="${i + 1}"><NAME>${e}</NAME><DISPLAYNAME>${e}</DISPLAYNAME><WINDOWS><ARCH>9</ARCH>` +
        `<INSTALLATIONTYPE>${installationType}</INSTALLATIONTYPE><VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR>` +
        `<BUILD>${build}</BUILD><SPBUILD>1</SPBUILD></VERSION></WINDOWS></IMAGE>`,
    )
    .join('');
  const xml = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`<WIM><TOTALBYTES>1</TOTALBYTES>${images}</WIM>`, 'utf16le')]);
  const payload = Buffer.alloc(4096, 0x5a); // stands in for the compressed image data
  const h = Buffer.alloc(208);
  h.write('MSWIM\0\0\0', 0, 'latin1');
  h.writeUInt32LE(208, 8);
  h.writeUInt32LE(0x10d00, 12);
  h.writeUInt32LE(0x20000, 16);
  h.writeUInt32LE(editions.length, 44);
  h.writeUInt32LE(xml.length, 72);
  h.writeBigUInt64LE(BigInt(208 + payload.length), 80);
  h.writeBigUInt64LE(BigInt(xml.length), 88);
  return Buffer.concat([h, payload, xml]);
}

async function detected(spec: IsoSpec): Promise<Extract<DetectResult, { status: 'detected' }>> {
  const r = await detectOs(await makeIso(spec));
  if (r.status !== 'detected') throw new Error(`expected a detection for ${spec.volumeId}, got: ${r.reason}`);
  return r;
}

async function rejection(p: Promise<unknown>): Promise<VireoError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof VireoError) return e;
    throw e;
  }
  throw new Error('expected a VireoError');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-osdetect-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('detectOs on real ISO 9660 images', () => {
  const MS = 'MICROSOFT CORPORATION';
  const cases: Array<[string, IsoSpec, string, string?]> = [
    ['Ubuntu 22.04 desktop', { volumeId: 'Ubuntu 22.04.3 LTS amd64' }, 'ubuntu22.04'],
    ['Ubuntu 24.04 desktop', { volumeId: 'Ubuntu 24.04.1 LTS amd64' }, 'ubuntu24.04'],
    ['Ubuntu 22.04 server', { volumeId: 'Ubuntu-Server 22.04.4 LTS amd64' }, 'ubuntu22.04'],
    ['Debian 12 netinst', { volumeId: 'Debian 12.5.0 amd64 n' }, 'debian12'],
    ['Debian 11 DVD', { volumeId: 'Debian 11.7.0 amd64 1' }, 'debian11'],
    ['Fedora 37 Workstation', { volumeId: 'Fedora-WS-Live-37-1-7' }, 'fedora37'],
    ['FreeBSD 14.0', { volumeId: '14_0_RELEASE_AMD64_CD', systemId: 'FreeBSD' }, 'freebsd14.0'],
    ['FreeBSD 13.1', { volumeId: '13_1_RELEASE_AMD64_DVD', systemId: 'FreeBSD' }, 'freebsd13.1'],
    ['Alpine 3.17', { volumeId: 'alpine-std 3.17.0 x86_64' }, 'alpinelinux3.17'],
    ['openSUSE Leap 15.4', { volumeId: 'openSUSE-Leap-15.4-DVD-x86_64', publisher: 'SUSE LINUX GmbH' }, 'opensuse15.4'],
    ['Arch Linux', { volumeId: 'ARCH_202401', publisher: 'ARCH LINUX <HTTPS://ARCHLINUX.ORG>', application: 'ARCH LINUX LIVE/RESCUE CD' }, 'archlinux'],
    ['Rocky Linux 9', { volumeId: 'Rocky-9-3-x86_64-dvd' }, 'rocky9'],
    ['AlmaLinux 9', { volumeId: 'AlmaLinux-9-3-x86_64-dvd' }, 'almalinux9'],
    ['Windows 10 Enterprise', { volumeId: 'CENNA_X64FREV_EN-US_DV5', systemId: 'WIN32', publisher: MS }, 'win10'],
    ['Windows 7 Professional', { volumeId: 'GSP1RMCPRXFRER_EN_DVD', systemId: 'WIN32', publisher: MS }, 'win7'],
    ['Windows XP', { volumeId: 'WXPFPP_EN', systemId: 'WIN32', publisher: MS }, 'winxp', 'i686'],
    ['FreeDOS 1.2', { volumeId: 'FD-SETUP' }, 'freedos1.2'],
  ];

  it.each(cases)('%s', async (_label, spec, id, arch) => {
    const r = await detected(spec);
    expect(r.id).toBe(id);
    expect(r.arch).toBe(arch ?? 'x86_64');
    expect(r.iso.volumeId).toBe(spec.volumeId);
  });

  it('fills in the VM defaults of the detected OS', async () => {
    const xp = await detected({ volumeId: 'WXPFPP_EN', systemId: 'WIN32', publisher: MS });
    expect(xp).toMatchObject({ family: 'windows', profile: 'legacy', firmware: 'bios', tpm: false });
    const dos = await detected({ volumeId: 'FD-SETUP' });
    expect(dos).toMatchObject({ family: 'dos', profile: 'legacy', firmware: 'bios' });
    const deb = await detected({ volumeId: 'Debian 12.5.0 amd64 n' });
    expect(deb).toMatchObject({ family: 'linux', profile: 'modern', secureBoot: false, tpm: false });
    expect(deb.recommended.memoryMiB).toBeGreaterThanOrEqual(deb.minimum.memoryMiB);
    const bsd = await detected({ volumeId: '14_0_RELEASE_AMD64_CD', systemId: 'FreeBSD' });
    expect(bsd.family).toBe('bsd');
  });

  it('Windows 11 media: the install.wim build (22621) decides, with UEFI, Secure Boot and TPM', async () => {
    const r = await detected({
      volumeId: 'CCCOMA_X64FRE_EN-US_DV9',
      systemId: 'WIN32',
      publisher: MS,
      application: 'CDIMAGE 2.56 (01/01/2005 TM)',
      files: { 'sources/install.wim': fakeWim('22621', ['Windows 11 Home', 'Windows 11 Pro']), 'setup.exe': 'MZ' },
    });
    expect(r).toMatchObject({ id: 'win11', build: '22621', firmware: 'uefi', secureBoot: true, tpm: true, arch: 'x86_64' });
    expect(r.editions).toEqual(['Windows 11 Home', 'Windows 11 Pro']);
    expect(r.recommended.memoryMiB).toBeGreaterThanOrEqual(4096);
    expect(r.recommended.diskGiB).toBeGreaterThanOrEqual(64);
  });

  it('the same label with a Windows 10 build (19045) is Windows 10', async () => {
    const r = await detected({
      volumeId: 'CCCOMA_X64FRE_EN-US_DV9',
      systemId: 'WIN32',
      publisher: MS,
      files: { 'sources/install.wim': fakeWim('19045', ['Windows 10 Pro']) },
    });
    expect(r).toMatchObject({ id: 'win10', build: '19045', firmware: 'uefi', secureBoot: false, tpm: false });
  });

  it('Windows 11 vs 10 without install.wim: the shared label resolves to the newer OS and names the other', async () => {
    const r = await detected({ volumeId: 'CCCOMA_X64FRE_EN-US_DV9', systemId: 'WIN32', publisher: MS });
    expect(r.id).toBe('win11');
    expect(r.alternatives).toContain('win10');
    expect(r.build).toBeUndefined();
  });

  it('an install.esd and an unrecognised label still identify Windows by build', async () => {
    const r = await detected({
      volumeId: 'MY_CUSTOM_WINDOWS',
      files: { 'sources/install.esd': fakeWim('20348', ['Windows Server 2022 Standard'], 'Server') },
    });
    expect(r.id).toBe('win2k22');
  });

  it('an unrelated volume id is unknown, with the labels for the wizard to show', async () => {
    const r = await detectOs(await makeIso({ volumeId: 'FAMILY_PHOTOS_2019', publisher: 'ME' }));
    expect(r.status).toBe('unknown');
    if (r.status !== 'unknown') return;
    expect(r.reason).toContain('FAMILY_PHOTOS_2019');
    expect(r.iso).toMatchObject({ volumeId: 'FAMILY_PHOTOS_2019', systemId: 'LINUX', publisherId: 'ME' });
  });

  it('a garbage install.wim does not break detection', async () => {
    const r = await detected({
      volumeId: 'CCCOMA_X64FRE_EN-US_DV9',
      publisher: MS,
      files: { 'sources/install.wim': Buffer.concat([Buffer.from('MSWIM\0\0\0'), Buffer.alloc(300, 0xff)]) },
    });
    expect(r.id).toBe('win11');
    expect(r.build).toBeUndefined();
  });
});

describe('UDF-bridge media (Windows keeps install.wim only in UDF)', () => {
  // xorriso writes no UDF; genisoimage -udf writes a UDF 1.02 bridge like Windows media
  async function udfIso(files: Record<string, Buffer>): Promise<string> {
    const root = join(dir, `udfroot${++n}`);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), content);
    }
    const out = join(dir, `udf${n}.iso`);
    await run('genisoimage', ['-quiet', '-udf', '-V', 'CCCOMA_X64FRE_EN-US_DV9', '-sysid', 'WIN32', '-publisher', 'MICROSOFT CORPORATION', '-o', out, root], { timeoutMs: 30_000 });
    return out;
  }

  it('finds and reads a file through the UDF tree', async () => {
    const data = Buffer.alloc(10_000);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const f = await udfIso({ 'sources/boot.dat': data, 'README.TXT': Buffer.from('hi') });
    const reader = await IsoReader.open(f);
    try {
      const info = await reader.readInfo();
      expect(info.udf).toBe(true);
      const file = await findUdfFile(reader, 'SOURCES/Boot.dat');
      expect(file?.size).toBe(10_000);
      expect(await readUdfFile(reader, file!, 0, 10_000)).toEqual(data);
      expect(await readUdfFile(reader, file!, 9_000, 2_000)).toBeUndefined();
      expect(await findUdfFile(reader, 'sources/missing.wim')).toBeUndefined();
    } finally {
      await reader.close();
    }
  });

  it('reads the Windows build from a UDF-only install.wim', async () => {
    const f = await udfIso({ 'sources/install.wim': fakeWim('19045', ['Windows 10 Pro']) });
    // hide the file from ISO 9660 as Windows media do: rename the upper-case directory record
    // (UDF stores the name in lower case, so it stays reachable there)
    const img = await readFile(f);
    let at = img.indexOf('SOURCES', 0, 'latin1');
    expect(at).toBeGreaterThan(0);
    while (at >= 0) {
      img.write('X', at, 'latin1');
      at = img.indexOf('SOURCES', at + 1, 'latin1');
    }
    await writeFile(f, img);
    const r = await detectOs(f);
    expect(r).toMatchObject({ status: 'detected', id: 'win10', build: '19045', iso: { udf: true } });
  });
});

describe('detectOs errors', () => {
  it('a file that is not an ISO → INVALID_ARGUMENT naming the missing CD001 signature', async () => {
    const f = join(dir, 'notes.txt');
    await writeFile(f, 'x'.repeat(100_000));
    const e = await rejection(detectOs(f));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe(`${f} is not an ISO 9660 image (no CD001 signature at sector 16): choose an install ISO`);
    const tiny = join(dir, 'tiny.bin');
    await writeFile(tiny, 'abc');
    expect((await rejection(detectOs(tiny))).code).toBe('INVALID_ARGUMENT');
  });

  it('a missing file → NOT_FOUND; a directory → INVALID_ARGUMENT', async () => {
    const e = await rejection(detectOs(join(dir, 'nope.iso')));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('nope.iso does not exist');
    expect((await rejection(detectOs(dir))).code).toBe('INVALID_ARGUMENT');
  });

  it('a truncated download → INVALID_ARGUMENT saying so, whether cut in the descriptors or later', async () => {
    const a = await makeIso({ volumeId: 'Debian 12.5.0 amd64 n', files: { 'big.bin': Buffer.alloc(200_000, 1) } });
    await truncate(a, 16 * 2048 + 1000);
    const e1 = await rejection(detectOs(a));
    expect(e1.code).toBe('INVALID_ARGUMENT');
    expect(e1.message).toMatch(/is truncated: .*download the image again/);

    const b = await makeIso({ volumeId: 'Debian 12.5.0 amd64 n', files: { 'big.bin': Buffer.alloc(200_000, 1) } });
    await truncate(b, 100_000);
    const e2 = await rejection(detectOs(b));
    expect(e2.code).toBe('INVALID_ARGUMENT');
    expect(e2.message).toMatch(/is truncated: its volume descriptor declares \d+ bytes but the file has 100000/);
  });
});
