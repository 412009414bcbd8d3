import { describe, expect, it } from 'vitest';
import {
  SECTOR,
  parseDecDate,
  parseDirectory,
  parseJolietDescriptor,
  parsePrimaryVolumeDescriptor,
} from '../../../electron/engine/osdetect/iso9660.ts';
import { parseWimHeader, parseWimXml } from '../../../electron/engine/osdetect/wim.ts';

// Descriptors built byte by byte from ECMA-119's layout, so the parser is checked against the
// standard rather than against whatever one tool happens to write.

function field(buf: Buffer, off: number, len: number, text: string): void {
  buf.fill(0x20, off, off + len);
  buf.write(text, off, 'latin1');
}

function ucs2be(text: string): Buffer {
  const b = Buffer.from(text, 'utf16le');
  b.swap16();
  return b;
}

function dirRecord(name: Buffer, lba: number, size: number, dir: boolean): Buffer {
  const len = 33 + name.length + (name.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  r.writeUInt32LE(lba, 2);
  r.writeUInt32BE(lba, 6);
  r.writeUInt32LE(size, 10);
  r.writeUInt32BE(size, 14);
  r[25] = dir ? 0x02 : 0;
  r[32] = name.length;
  name.copy(r, 33);
  return r;
}

function pvd(over: Partial<Record<'sys' | 'vol' | 'set' | 'pub' | 'prep' | 'app' | 'date', string>> = {}): Buffer {
  const d = Buffer.alloc(SECTOR);
  d[0] = 1;
  d.write('CD001', 1, 'latin1');
  d[6] = 1;
  field(d, 8, 32, over.sys ?? 'LINUX');
  field(d, 40, 32, over.vol ?? 'Debian 12.5.0 amd64 n');
  d.writeUInt32LE(1234, 80);
  d.writeUInt32BE(1234, 84);
  d.writeUInt16LE(2048, 128);
  d.writeUInt16BE(2048, 130);
  dirRecord(Buffer.from([0]), 20, 2048, true).copy(d, 156);
  field(d, 190, 128, over.set ?? 'SET');
  field(d, 318, 128, over.pub ?? 'Debian CD');
  field(d, 446, 128, over.prep ?? 'PREPARER');
  field(d, 574, 128, over.app ?? 'XORRISO');
  d.write(over.date ?? '2024020112345600', 813, 'latin1');
  d.writeInt8(4, 829); // +01:00
  return d;
}

describe('parsePrimaryVolumeDescriptor', () => {
  it('reads and trims every identifier, the size and the creation date', () => {
    const p = parsePrimaryVolumeDescriptor(pvd({ vol: 'CCCOMA_X64FRE_EN-US_DV9', pub: 'MICROSOFT CORPORATION' }));
    expect(p).toMatchObject({
      systemId: 'LINUX',
      volumeId: 'CCCOMA_X64FRE_EN-US_DV9',
      volumeSetId: 'SET',
      publisherId: 'MICROSOFT CORPORATION',
      dataPreparerId: 'PREPARER',
      applicationId: 'XORRISO',
      volumeSpaceSize: 1234,
      logicalBlockSize: 2048,
      creationDate: '2024-02-01T12:34:56+01:00',
      root: { lba: 20, size: 2048 },
    });
  });

  it('treats NUL padding like space padding', () => {
    const d = pvd();
    d.fill(0, 40, 72);
    d.write('ARCH_202401', 40, 'latin1');
    expect(parsePrimaryVolumeDescriptor(d).volumeId).toBe('ARCH_202401');
  });

  it('rejects a sector without the CD001 signature or of another type', () => {
    const d = pvd();
    d.write('CD002', 1, 'latin1');
    expect(() => parsePrimaryVolumeDescriptor(d)).toThrow(/not a primary volume descriptor/);
    const svd = pvd();
    svd[0] = 2;
    expect(() => parsePrimaryVolumeDescriptor(svd)).toThrow();
    expect(() => parsePrimaryVolumeDescriptor(Buffer.alloc(100))).toThrow();
  });
});

describe('parseDecDate', () => {
  it('returns undefined for an unset (all zero digits or NUL) date and for nonsense', () => {
    const b = Buffer.alloc(17);
    expect(parseDecDate(b, 0)).toBeUndefined();
    b.write('0000000000000000', 0, 'latin1');
    expect(parseDecDate(b, 0)).toBeUndefined();
    b.write('2024130112345600', 0, 'latin1');
    expect(parseDecDate(b, 0)).toBeUndefined();
  });

  it('renders negative UTC offsets', () => {
    const b = Buffer.alloc(17);
    b.write('1999123123595900', 0, 'latin1');
    b.writeInt8(-20, 16); // -05:00
    expect(parseDecDate(b, 0)).toBe('1999-12-31T23:59:59-05:00');
  });
});

describe('parseJolietDescriptor', () => {
  it('reads the UCS-2 volume id of a level 3 Joliet descriptor', () => {
    const d = pvd();
    d[0] = 2;
    d.write('%/E', 88, 'latin1');
    d.fill(0, 40, 72);
    ucs2be('Win11 Media').copy(d, 40);
    expect(parseJolietDescriptor(d)).toEqual({ volumeId: 'Win11 Media', level: 3, root: { lba: 20, size: 2048 } });
  });

  it('ignores a supplementary descriptor without a Joliet escape sequence', () => {
    const d = pvd();
    d[0] = 2;
    expect(parseJolietDescriptor(d)).toBeUndefined();
  });
});

describe('parseDirectory', () => {
  it('skips . and .., strips ;1 versions and follows sector padding', () => {
    const data = Buffer.alloc(SECTOR * 2);
    let pos = 0;
    for (const r of [
      dirRecord(Buffer.from([0]), 20, 2048, true),
      dirRecord(Buffer.from([1]), 20, 2048, true),
      dirRecord(Buffer.from('SOURCES'), 30, 2048, true),
    ]) {
      r.copy(data, pos);
      pos += r.length;
    }
    // the next record starts on the following sector, after zero padding
    dirRecord(Buffer.from('README.TXT;1'), 40, 123, false).copy(data, SECTOR);
    expect(parseDirectory(data, false)).toEqual([
      { name: 'SOURCES', lba: 30, size: 2048, isDir: true },
      { name: 'README.TXT', lba: 40, size: 123, isDir: false },
    ]);
  });

  it('decodes Joliet names and stops at a record that overruns the buffer', () => {
    const data = Buffer.alloc(SECTOR);
    const r = dirRecord(ucs2be('install.wim;1'), 50, 999, false);
    r.copy(data, 0);
    data[r.length] = 200; // claims 200 bytes; a garbage tail must not throw
    data[r.length + 32] = 250;
    expect(parseDirectory(data, true)).toEqual([{ name: 'install.wim', lba: 50, size: 999, isDir: false }]);
    expect(parseDirectory(Buffer.from([40, 1, 2]), false)).toEqual([]);
  });
});

describe('WIM metadata', () => {
  function wim(xml: string, flags = 0): Buffer {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
    const h = Buffer.alloc(208);
    h.write('MSWIM\0\0\0', 0, 'latin1');
    h.writeUInt32LE(208, 8);
    h.writeUInt32LE(0x10d00, 12);
    h.writeUInt32LE(2, 44);
    h.writeUInt32LE(body.length, 72);
    h[79] = flags;
    h.writeBigUInt64LE(208n, 80);
    h.writeBigUInt64LE(BigInt(body.length), 88);
    return Buffer.concat([h, body]);
  }
  const xml =
    '<WIM><IMAGE INDEX="1"><NAME>Windows 11 Home</NAME><WINDOWS><ARCH>9</ARCH><EDITIONID>Core</EDITIONID>' +
    '<INSTALLATIONTYPE>Client</INSTALLATIONTYPE><VERSION><MAJOR>10</MAJOR><BUILD>22621</BUILD></VERSION></WINDOWS></IMAGE>' +
    '<IMAGE INDEX="2"><DISPLAYNAME>Windows 11 Pro &amp; more</DISPLAYNAME><WINDOWS><ARCH>9</ARCH><VERSION><BUILD>22621</BUILD></VERSION></WINDOWS></IMAGE></WIM>';

  it('reads the XML resource location from the header', () => {
    const buf = wim(xml);
    const h = parseWimHeader(buf);
    expect(h).toMatchObject({ imageCount: 2, xml: { offset: 208, size: buf.length - 208, compressed: false } });
    expect(parseWimHeader(wim(xml, 0x04))?.xml.compressed).toBe(true);
    expect(parseWimHeader(Buffer.alloc(208))).toBeUndefined();
    expect(parseWimHeader(buf.subarray(0, 100))).toBeUndefined();
  });

  it('extracts build, editions and architecture from the UTF-16LE XML', () => {
    const buf = wim(xml);
    const info = parseWimXml(buf.subarray(208));
    expect(info.build).toBe('22621');
    expect(info.images).toEqual([
      { index: 1, name: 'Windows 11 Home', editionId: 'Core', installationType: 'Client', build: '22621', arch: 'x86_64' },
      { index: 2, displayName: 'Windows 11 Pro & more', build: '22621', arch: 'x86_64' },
    ]);
  });

  it('yields no images, not an exception, for garbage', () => {
    expect(parseWimXml(Buffer.from('not xml at all, odd length')).images).toEqual([]);
  });
});
