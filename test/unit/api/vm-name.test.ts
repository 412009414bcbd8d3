import { describe, expect, it } from 'vitest';
import { VmName } from '../../../electron/api/schemas/common.ts';

// A VM name is shown in the library, dialogs, logs and folder names: what it displays must be
// what it is.

const ok = (s: string) => VmName.safeParse(s).success;
const why = (s: string) => {
  const r = VmName.safeParse(s);
  return r.success ? null : r.error.issues[0]!.message;
};

describe('VmName', () => {
  it('accepts names in any script, right-to-left ones included', () => {
    for (const n of ['Debian 12', 'Windows 11 — Büro', 'שלום', 'مرحبا', '日本語の VM', 'emoji 🐦']) expect(ok(n), n).toBe(true);
  });

  it('refuses bidirectional formatting characters (they make a name display as another)', () => {
    for (const c of ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) {
      expect(why(`a${c}b`), `U+${c.charCodeAt(0).toString(16)}`).toMatch(/text-direction/);
    }
  });

  it('refuses C0 and C1 control characters and DEL', () => {
    for (const c of ['\u0000', '\u0009', '\u001b', '\u007f', '\u0085', '\u009b']) expect(why(`a${c}b`)).toMatch(/control characters/);
  });
});
