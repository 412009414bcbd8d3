import { describe, expect, it } from 'vitest';
import { VireoError } from '../../../electron/api/errors.ts';
import { keysFor, typingPlan } from '../../../electron/engine/display/type-text.ts';

// "Type text" turns characters into the keys a US keyboard types them with (QEMU qcodes).
describe('type text: characters to US-layout key chords', () => {
  it('letters, digits and Shift where the US layout needs it', () => {
    expect(keysFor('a')).toEqual(['a']);
    expect(keysFor('Z')).toEqual(['shift', 'z']);
    expect(keysFor('7')).toEqual(['7']);
    expect(keysFor('$')).toEqual(['shift', '4']);
    expect(keysFor('"')).toEqual(['shift', 'apostrophe']);
    expect(keysFor('|')).toEqual(['shift', 'backslash']);
    expect(keysFor('~')).toEqual(['shift', 'grave_accent']);
    expect(keysFor('/')).toEqual(['slash']);
    expect(keysFor(' ')).toEqual(['spc']);
  });

  it('every printable ASCII character has a key', () => {
    const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
    expect(ascii.filter((c) => keysFor(c) === null)).toEqual([]);
    // One chord per character and no chord is empty.
    expect(typingPlan(ascii.join('')).every((k) => k.length >= 1 && k.length <= 2)).toBe(true);
  });

  it('a shell line with Enter: CR LF and a lone CR are one Enter each', () => {
    expect(typingPlan('echo $((6*7))\r\nls\r')).toEqual([
      ['e'], ['c'], ['h'], ['o'], ['spc'], ['shift', '4'], ['shift', '9'], ['shift', '9'], ['6'], ['shift', '8'], ['7'],
      ['shift', '0'], ['shift', '0'], ['ret'], ['l'], ['s'], ['ret'],
    ]);
  });

  it('refuses the whole text before typing, naming each character without a key once', () => {
    let err: unknown;
    try {
      typingPlan('naïve café €5 ünd é\u0007');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VireoError);
    const v = err as VireoError;
    expect(v.code).toBe('INVALID_ARGUMENT');
    expect((v.details as { refused: string[] }).refused).toEqual(['ï', 'é', '€', 'ü', '\u0007']);
    expect(v.message).toMatch(/"ï" \(U\+00EF\), "é" \(U\+00E9\), "€" \(U\+20AC\), "ü" \(U\+00FC\), U\+0007/);
    expect(v.message).toMatch(/US keyboard/);
  });
});
