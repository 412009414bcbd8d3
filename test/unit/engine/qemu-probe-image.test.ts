import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// The probe image is committed so users need no assembler; this keeps it honest: the source
// must still assemble to exactly the committed bytes.

const probeDir = resolve(import.meta.dirname, '../../../resources/probe');
const committed = readFileSync(join(probeDir, 'probe.img'));
const haveBinutils = ['as', 'ld'].every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);

describe('resources/probe/probe.img', () => {
  it('is a bootable sector that speaks the marker protocol', () => {
    expect(committed.length).toBe(512);
    expect(committed.readUInt16LE(510)).toBe(0xaa55);
    const text = committed.toString('latin1');
    for (const m of ['VIREO-PROBE-BOOT\n', 'VIREO-PROBE-LM\n', 'VIREO-PROBE-WORK-START\n', 'VIREO-PROBE-WORK-END\n']) {
      expect(text).toContain(m);
    }
  });

  it.skipIf(!haveBinutils)('is reproduced byte for byte by build.sh (needs binutils: as, ld)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-probe-'));
    try {
      const out = join(dir, 'probe.img');
      execFileSync('bash', [join(probeDir, 'build.sh'), out], { stdio: 'pipe' });
      expect(readFileSync(out).equals(committed)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
