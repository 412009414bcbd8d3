import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../../electron/engine/util/proc.ts';
import { buildIso, primaryName } from '../../../../electron/engine/cloud/iso9660.ts';
import { isIso9660 } from '../../../../electron/engine/disk/qemu-img.ts';

// The seed ISO writer, read back by real readers: xorriso (libisofs) and isoinfo (its own
// ISO 9660 + Joliet parser), and blkid for the label cloud-init looks for.

const dir = mkdtempSync(join(tmpdir(), 'vireo-iso-'));
const date = new Date('2026-12-01T10:20:30Z');
const big = Buffer.from('x'.repeat(5000) + '\nend\n');
const files = [
  { name: 'user-data', data: Buffer.from('#cloud-config\nhostname: a\n') },
  { name: 'meta-data', data: Buffer.from('instance-id: i-1\n') },
  { name: 'network-config', data: big },
  { name: 'empty', data: Buffer.alloc(0) },
];
const iso = join(dir, 'seed.iso');
writeFileSync(iso, buildIso(files, { volumeId: 'cidata', date }));
const out = async (cmd: string, args: string[]) => (await run(cmd, args, { timeoutMs: 30_000 })).stdout;

describe('buildIso', () => {
  it('is an ISO 9660 image with the volume id as given (cloud-init looks for "cidata")', async () => {
    expect(await isIso9660(iso)).toBe(true);
    expect(await out('blkid', ['-o', 'export', iso])).toMatch(/LABEL=cidata\nTYPE=iso9660/);
    const d = await out('isoinfo', ['-d', '-i', iso]);
    expect(d).toMatch(/Volume id: cidata/);
    expect(d).toMatch(/Joliet with UCS level 3 found/);
  });

  it('lists the Joliet names (user-data, meta-data: not level-1 names) and their sizes through xorriso', async () => {
    const r = await run('xorriso', ['-indev', iso, '-find', '/', '-type', 'f', '-exec', 'lsdl'], { timeoutMs: 30_000 });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('-'));
    const seen = Object.fromEntries(lines.map((l) => [/'\/(.+)'$/.exec(l)![1], Number(l.split(/\s+/)[4])]));
    expect(seen).toEqual({ 'user-data': 26, 'meta-data': 17, 'network-config': big.length, empty: 0 });
    expect(r.stderr).not.toMatch(/FAILURE|SORRY|WARNING/);
  });

  it('gives back each file byte for byte (Joliet tree), and the primary tree holds the 8.3 names', async () => {
    for (const f of files) {
      // ASCII contents, so the text round trip is exact.
      expect(await out('isoinfo', ['-J', '-i', iso, '-x', `/${f.name}`])).toBe(f.data.toString('latin1'));
    }
    const primary = await out('isoinfo', ['-l', '-i', iso]);
    for (const n of ['USER_DAT.;1', 'META_DAT.;1', 'NETWORK_.;1', 'EMPTY.;1']) expect(primary).toContain(n);
    expect(primaryName('user-data')).toBe('USER_DAT.;1');
  });

  it('writes the same bytes for the same input (the seed is rewritten before every start)', () => {
    expect(buildIso(files, { volumeId: 'cidata', date }).equals(buildIso(files, { volumeId: 'cidata', date }))).toBe(true);
  });

  it('refuses names it cannot write and two files with one level-1 name', () => {
    expect(() => buildIso([{ name: 'a/b', data: Buffer.alloc(1) }], { volumeId: 'cidata', date })).toThrow(/not a plain/);
    expect(() => buildIso([{ name: 'user-data', data: Buffer.alloc(1) }, { name: 'user_data', data: Buffer.alloc(1) }], { volumeId: 'cidata', date })).toThrow(/USER_DAT/);
    expect(() => buildIso([], { volumeId: 'has space', date })).toThrow(/volume id/);
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
