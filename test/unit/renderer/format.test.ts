import { describe, expect, it } from 'vitest';
import { formatBytes, formatWhen, parseSize } from '../../../renderer/src/lib/format.ts';

describe('parseSize', () => {
  it('reads units and uses the default for bare numbers', () => {
    expect(parseSize('2G', 'M')).toEqual({ bytes: 2 * 1024 ** 3 });
    expect(parseSize('512m', 'G')).toEqual({ bytes: 512 * 1024 ** 2 });
    expect(parseSize('1.5GiB', 'M')).toEqual({ bytes: 1.5 * 1024 ** 3 });
    expect(parseSize('2048', 'M')).toEqual({ bytes: 2048 * 1024 ** 2 });
    expect(parseSize('20', 'G')).toEqual({ bytes: 20 * 1024 ** 3 });
  });
  it('explains what is wrong', () => {
    expect(parseSize('', 'M')).toHaveProperty('error');
    expect(parseSize('lots', 'M')).toMatchObject({ error: expect.stringMatching(/not a size/) });
    expect(parseSize('0', 'M')).toMatchObject({ error: expect.stringMatching(/larger than zero/) });
    expect(parseSize('-1G', 'M')).toHaveProperty('error');
  });
});

describe('formatBytes / formatWhen', () => {
  it('formats binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536 * 1024 ** 2)).toBe('1.5 GiB');
    expect(formatBytes(20 * 1024 ** 3)).toBe('20 GiB');
    expect(formatBytes(null)).toBe('—');
  });
  it('says how long ago', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(formatWhen('2025-01-01T11:59:50Z', now)).toBe('just now');
    expect(formatWhen('2025-01-01T11:30:00Z', now)).toBe('30 min ago');
    expect(formatWhen('2025-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatWhen(null, now)).toBe('—');
  });
});
