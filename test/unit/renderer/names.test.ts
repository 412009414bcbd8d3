import { describe, expect, it } from 'vitest';
import { nameProblem, suggestName } from '../../../renderer/src/lib/names.ts';

describe('suggestName', () => {
  it('uses the OS name when free, then numbers it', () => {
    expect(suggestName('Debian 12', [])).toBe('Debian 12');
    expect(suggestName('Debian 12', ['debian 12'])).toBe('Debian 12 (2)');
    expect(suggestName('Debian 12', ['Debian 12', 'Debian 12 (2)'])).toBe('Debian 12 (3)');
  });
  it('removes path separators and falls back for empty input', () => {
    expect(suggestName('OS/2 Warp', [])).toBe('OS 2 Warp');
    expect(suggestName('   ', [])).toBe('New VM');
  });
});

describe('nameProblem', () => {
  it('accepts a fresh name and rejects the engine-invalid ones', () => {
    expect(nameProblem('Win 11', ['Debian'])).toBeNull();
    expect(nameProblem('  ', [])).toMatch(/empty/);
    expect(nameProblem('a'.repeat(65), [])).toMatch(/64/);
    expect(nameProblem('a/b', [])).toMatch(/separator/);
    expect(nameProblem('..', [])).toMatch(/"\.\."/);
    expect(nameProblem('tab\there', [])).toMatch(/control/);
  });
  it('treats names as taken case-insensitively after trimming', () => {
    expect(nameProblem(' debian ', ['Debian'])).toMatch(/already exists/);
  });
});
