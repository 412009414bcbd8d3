import { describe, expect, it } from 'vitest';
import { formatBytes, formatMiB, parseSize, readSize } from '../../../electron/shared/size.ts';
import * as api from '../../../electron/api/schemas/common.ts';

// The one size grammar: the renderer reads it (readSize, never throws), the engine and CLI
// parse it (parseSize, throws with the same message). Both once, here.

describe('readSize', () => {
  it('reads units and uses the default for bare numbers', () => {
    expect(readSize('2G', 'M')).toEqual({ bytes: 2 * 1024 ** 3 });
    expect(readSize('512m', 'G')).toEqual({ bytes: 512 * 1024 ** 2 });
    expect(readSize('1.5GiB', 'M')).toEqual({ bytes: 1.5 * 1024 ** 3 });
    expect(readSize('2048', 'M')).toEqual({ bytes: 2048 * 1024 ** 2 });
    expect(readSize('20', 'G')).toEqual({ bytes: 20 * 1024 ** 3 });
    expect(readSize(3, 'G')).toEqual({ bytes: 3 * 1024 ** 3 });
  });
  it('explains what is wrong', () => {
    expect(readSize('', 'M')).toHaveProperty('error');
    expect(readSize('lots', 'M')).toMatchObject({ error: expect.stringMatching(/not a size/) });
    expect(readSize('0', 'M')).toMatchObject({ error: expect.stringMatching(/larger than zero/) });
    expect(readSize('-1G', 'M')).toHaveProperty('error');
    expect(readSize(-512, 'M')).toMatchObject({ error: expect.stringMatching(/positive/) });
  });
});

describe('parseSize', () => {
  it('returns bytes or throws readSize\'s message', () => {
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseSize(512)).toBe(512 * 1024 ** 2);
    expect(() => parseSize('lots', 'G')).toThrow(/size "lots" is not understood/);
    expect(() => parseSize('0G')).toThrow(/larger than zero/);
  });
  it('is the same function the API schema module exports (no second copy)', () => {
    expect(api.parseSize).toBe(parseSize);
    expect(api.formatBytes).toBe(formatBytes);
  });
});

describe('formatBytes / formatMiB', () => {
  it('formats binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536 * 1024 ** 2)).toBe('1.5 GiB');
    expect(formatBytes(20 * 1024 ** 3)).toBe('20 GiB');
    expect(formatBytes(null)).toBe('—');
  });
  it('keeps one decimal above ten units so near sizes stay distinguishable', () => {
    expect(formatBytes(15.5 * 1024 ** 3)).toBe('15.5 GiB');
    expect(formatBytes(64 * 1024 ** 4)).toBe('64 TiB');
    expect(formatMiB(256)).toBe('256 MiB');
    expect(formatMiB(undefined)).toBe('—');
  });
});
