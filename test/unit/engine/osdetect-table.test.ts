import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getOs, listOses, profileOf, windowsIdForBuild } from '../../../electron/engine/osdetect/detect.ts';
import { matchIso, mediaMatches, type IsoIds } from '../../../electron/engine/osdetect/match.ts';
import type { OsTable, TableOs } from '../../../electron/engine/osdetect/os-table.ts';
import { convertRegex, generate, parseXml } from '../../../scripts/gen-os-table.ts';

const iso = (volumeId: string, more: Partial<IsoIds> = {}): IsoIds => ({
  volumeId,
  systemId: 'LINUX',
  publisherId: '',
  applicationId: '',
  volumeBytes: 1000,
  ...more,
});

const os = (id: string, more: Partial<TableOs> = {}): TableOs => ({
  id,
  uri: `http://example.org/${id}`,
  name: id,
  family: 'linux',
  minimum: {},
  recommended: {},
  media: [],
  ...more,
});

describe('media matching (osinfo semantics)', () => {
  it('requires every stated matcher and matches unanchored', () => {
    const m = { arch: 'x86_64' as const, volumeId: 'Debian 11.\\d+.\\d+ amd64 n', systemId: 'LINUX' };
    expect(mediaMatches(m, iso('Debian 11.7.0 amd64 n'))).toBe(true);
    expect(mediaMatches(m, iso('Debian 11.7.0 amd64 n', { systemId: 'Win32' }))).toBe(false);
    expect(mediaMatches(m, iso('Debian 12.5.0 amd64 n'))).toBe(false);
  });

  it('an entry with no matcher matches nothing; volume-size is exact', () => {
    expect(mediaMatches({ arch: 'x86_64' }, iso('X'))).toBe(false);
    expect(mediaMatches({ arch: 'x86_64', volumeId: 'X', volumeSize: 999 }, iso('X'))).toBe(false);
    expect(mediaMatches({ arch: 'x86_64', volumeId: 'X', volumeSize: 1000 }, iso('X'))).toBe(true);
  });

  it('prefers the most matchers, then the newest release, and keeps rolling releases as a fallback', () => {
    const table: OsTable = {
      source: 'test',
      oses: [
        os('old', { released: '2010-01-01', media: [{ arch: 'x86_64', volumeId: 'DISTRO' }] }),
        os('new', { released: '2020-01-01', media: [{ arch: 'x86_64', volumeId: 'DISTRO' }] }),
        os('specific', { released: '2000-01-01', media: [{ arch: 'x86_64', volumeId: 'DISTRO', systemId: 'LINUX' }] }),
        os('rolling', { rolling: true, media: [{ arch: 'x86_64', volumeId: '.*' }] }),
      ],
    };
    expect(matchIso(table, iso('DISTRO 1')).map((m) => m.os.id)).toEqual(['specific', 'new', 'old']);
    expect(matchIso(table, iso('OTHER')).map((m) => m.os.id)).toEqual(['rolling']);
  });

  it('falls back to a case-insensitive match only when nothing matches exactly', () => {
    const table: OsTable = { source: 't', oses: [os('a', { media: [{ arch: 'x86_64', volumeId: 'Fedora-WS' }] })] };
    const [m] = matchIso(table, iso('FEDORA-WS-LIVE'));
    expect(m?.os.id).toBe('a');
    expect(m?.caseFolded).toBe(true);
    expect(matchIso(table, iso('Fedora-WS'))[0]?.caseFolded).toBe(false);
  });
});

describe('VM defaults from OS data', () => {
  it('Windows 11: UEFI, Secure Boot, TPM, at least 4 GiB and 64 GiB', () => {
    const p = getOs('win11')!;
    expect(p).toMatchObject({ firmware: 'uefi', secureBoot: true, tpm: true, profile: 'modern', family: 'windows' });
    expect(p.recommended.memoryMiB).toBeGreaterThanOrEqual(4096);
    expect(p.recommended.diskGiB).toBeGreaterThanOrEqual(64);
    expect(p.recommended.cpus).toBeGreaterThanOrEqual(2);
  });

  it('Windows 10: UEFI without the Windows 11 requirements', () => {
    expect(getOs('win10')).toMatchObject({ firmware: 'uefi', secureBoot: false, tpm: false, profile: 'modern' });
  });

  it('DOS, Windows 9x and pre-2005 systems get the legacy profile on BIOS', () => {
    for (const id of ['msdos6.22', 'win98', 'winxp', 'freedos1.2']) {
      expect(getOs(id), id).toMatchObject({ profile: 'legacy', firmware: 'bios', secureBoot: false, tpm: false });
    }
    expect(getOs('freedos1.2')?.family).toBe('dos');
  });

  it('fills missing resources and never recommends less than the minimum', () => {
    const p = profileOf(os('x', { minimum: { memoryMiB: 8192 }, recommended: { memoryMiB: 1024 } }));
    expect(p.recommended.memoryMiB).toBe(8192);
    expect(p.minimum).toEqual({ cpus: 1, memoryMiB: 8192, diskGiB: 10 });
    expect(p.firmware).toBe('bios');
    expect(profileOf(os('y', { efi: 'supported' })).firmware).toBe('uefi');
  });

  it('maps NT builds to Windows releases', () => {
    expect(windowsIdForBuild(22621, false)).toBe('win11');
    expect(windowsIdForBuild(22000, false)).toBe('win11');
    expect(windowsIdForBuild(19045, false)).toBe('win10');
    expect(windowsIdForBuild(7601, false)).toBe('win7');
    expect(windowsIdForBuild(20348, true)).toBe('win2k22');
    expect(windowsIdForBuild(17763, true)).toBe('win2k19');
    expect(windowsIdForBuild(2600, false)).toBeUndefined();
  });

  it('getOs returns undefined for an unknown id', () => {
    expect(getOs('no-such-os')).toBeUndefined();
  });
});

describe('listOses', () => {
  it('filters on every query term and puts the newest release of a distribution first', () => {
    const list = listOses('ubuntu lts');
    expect(list.length).toBeGreaterThan(3);
    expect(list.every((o) => /ubuntu/i.test(o.name) && /lts/i.test(o.name))).toBe(true);
    expect(list[0]?.id).toBe('ubuntu24.04');
    const released = list.map((o) => o.released ?? '');
    expect([...released].sort().reverse()).toEqual(released);
  });

  it('lists an exact id first and leaves out catch-all "unknown" entries', () => {
    expect(listOses('win10')[0]?.id).toBe('win10');
    const all = listOses();
    expect(all.length).toBeGreaterThan(500);
    expect(all.some((o) => o.id.endsWith('unknown'))).toBe(false);
    expect(listOses('zzzz-no-such-thing')).toEqual([]);
  });
});

describe('gen-os-table', () => {
  it('parses osinfo XML structurally: entities, comments, translations, nested same-name tags', () => {
    const doc = parseXml(
      '<?xml version="1.0"?><libosinfo><!-- c --><os id="x"><name>A &amp; B</name><name xml:lang="de">X</name>' +
        '<tree><family>Fedora</family></tree><family>linux</family><iso><publisher-id>ARCH &lt;HTTPS&gt;</publisher-id></iso></os></libosinfo>',
    );
    const osEl = doc.children[0]!.children[0]!;
    expect(osEl.attrs.id).toBe('x');
    expect(osEl.children.filter((c) => c.name === 'family').map((c) => c.text)).toEqual(['linux']);
    expect(osEl.children[0]!.text).toBe('A & B');
    expect(osEl.children.at(-1)!.children[0]!.text).toBe('ARCH <HTTPS>');
  });

  it('converts POSIX classes and drops what JavaScript cannot compile', () => {
    expect(convertRegex('Foo [[:digit:]]+')).toBe('Foo [0-9]+');
    expect(new RegExp(convertRegex('X[[:space:]]Y')!).test('X Y')).toBe(true);
    expect(convertRegex('(?i)foo')).toBeUndefined();
    expect(convertRegex('foo(')).toBeUndefined();
    expect(convertRegex('Ubuntu 22.04(.\\d\\+?)? LTS')).toBe('Ubuntu 22.04(.\\d\\+?)? LTS');
  });

  it('the committed table is what the installed osinfo-db generates (deterministically)', () => {
    expect(existsSync('/usr/share/osinfo/os'), 'install the osinfo-db Debian package').toBe(true);
    const a = generate('/usr/share/osinfo', 'resources/os/extra');
    const b = generate('/usr/share/osinfo', 'resources/os/extra');
    expect(a.json).toBe(b.json);
    expect(a.json, 'regenerate with: npx tsx scripts/gen-os-table.ts').toBe(readFileSync('resources/os/os-table.json', 'utf8'));
    const table = JSON.parse(a.json) as OsTable;
    // only media of guest architectures Vireo runs survive (x86, and aarch64 since issue 19)
    expect(table.oses.flatMap((o) => o.media).every((m) => m.arch === 'x86_64' || m.arch === 'i686' || m.arch === 'aarch64')).toBe(true);
    expect(new Set(table.oses.map((o) => o.id)).size).toBe(table.oses.length);
  });
});
