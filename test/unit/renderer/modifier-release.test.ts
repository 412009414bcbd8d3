import { describe, expect, it } from 'vitest';
import { MODIFIERS, releaseEvents } from '../../../renderer/src/display/keys.ts';

// Releasing the keyboard (Ctrl+Alt+G) must leave nothing held in the guest: Ctrl and Alt of
// the chord reached it, their key-ups did not.
describe('all keys up when the screen lets go of the keyboard', () => {
  it('releases every modifier on both sides even when nothing was tracked', () => {
    const codes = releaseEvents([]).map((e) => e.key.code);
    for (const c of ['ControlLeft', 'ControlRight', 'AltLeft', 'AltRight', 'ShiftLeft', 'ShiftRight', 'MetaLeft', 'MetaRight']) expect(codes).toContain(c);
    expect(releaseEvents([]).every((e) => e.down === false)).toBe(true);
    // Real keysyms for modifiers (guests without QEMU's extended key events get those).
    expect(MODIFIERS.every((k) => k.keysym >= 0xffe1 && k.keysym <= 0xffec)).toBe(true);
  });

  it('adds every other held key once, after the modifiers', () => {
    const ev = releaseEvents(['ControlLeft', 'AltLeft', 'KeyE', 'KeyE', 'ArrowUp']);
    expect(ev.map((e) => e.key.code)).toEqual([...MODIFIERS.map((k) => k.code), 'KeyE', 'ArrowUp']);
  });
});
