import { describe, expect, it } from 'vitest';
import { basename, formatWhen } from '../../../renderer/src/lib/format.ts';

// Sizes are tested once, with their one definition: test/unit/shared/size.test.ts.

describe('formatWhen / basename', () => {
  it('says how long ago', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(formatWhen('2025-01-01T11:59:50Z', now)).toBe('just now');
    expect(formatWhen('2025-01-01T11:30:00Z', now)).toBe('30 min ago');
    expect(formatWhen('2025-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatWhen(null, now)).toBe('—');
  });
  it('takes the last path part on either separator', () => {
    expect(basename('/isos/debian.iso')).toBe('debian.iso');
    expect(basename('C:\\isos\\win.iso')).toBe('win.iso');
  });
});
