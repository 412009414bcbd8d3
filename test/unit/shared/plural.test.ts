import { describe, expect, it } from 'vitest';
import { plural } from '../../../electron/shared/plural.ts';

describe('plural', () => {
  it('uses the singular for exactly one and the plural otherwise', () => {
    expect(plural(1, 'VM')).toBe('1 VM');
    expect(plural(2, 'VM')).toBe('2 VMs');
    expect(plural(0, 'CPU')).toBe('0 CPUs');
    expect(plural(1, 'CPU')).toBe('1 CPU');
  });
  it('takes an irregular plural', () => {
    expect(plural(3, 'entry', 'entries')).toBe('3 entries');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
  });
});
