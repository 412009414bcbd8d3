import { describe, expect, it } from 'vitest';
import { backoffMs, COMBOS, comboEvents, fn, isReleaseChord, KEY, screenshotName } from '../../../renderer/src/display/keys.ts';

// The pure parts of the screen view (renderer/src/display/keys.ts): what the Keys menu sends.

describe('Keys menu', () => {
  it('plays a chord as presses in order and releases in reverse', () => {
    const ev = comboEvents([KEY.ctrl, KEY.alt, fn(2)]);
    expect(ev.map((e) => `${e.down ? '+' : '-'}${e.key.code}`)).toEqual(['+ControlLeft', '+AltLeft', '+F2', '-F2', '-AltLeft', '-ControlLeft']);
  });
  it('maps F1..F12 to the X keysyms 0xffbe..0xffc9', () => {
    expect(fn(1)).toEqual({ keysym: 0xffbe, code: 'F1' });
    expect(fn(12)).toEqual({ keysym: 0xffc9, code: 'F12' });
  });
  it('offers Ctrl+Alt+Del and Ctrl+Alt+F1..F12, each label once', () => {
    const labels = COMBOS.map((c) => c.label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toContain('Ctrl+Alt+Del');
    for (let n = 1; n <= 12; n++) expect(labels).toContain(`Ctrl+Alt+F${n}`);
    expect(COMBOS.find((c) => c.label === 'Ctrl+Alt+Del')!.keys.map((k) => k.keysym)).toEqual([0xffe3, 0xffe9, 0xffff]);
  });
  it('releases the keyboard on Ctrl+Alt+G only', () => {
    expect(isReleaseChord({ ctrlKey: true, altKey: true, code: 'KeyG' })).toBe(true);
    expect(isReleaseChord({ ctrlKey: true, altKey: false, code: 'KeyG' })).toBe(false);
    expect(isReleaseChord({ ctrlKey: true, altKey: true, code: 'KeyH' })).toBe(false);
  });
});

describe('helpers', () => {
  it('names screenshots after the VM and the local time, safely', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5);
    expect(screenshotName('Windows 11', at)).toBe('Windows-11-20260102-030405.png');
    expect(screenshotName('../../etc', at)).toBe('..-..-etc-20260102-030405.png');
    expect(screenshotName('***', at)).toBe('vm-20260102-030405.png');
  });
  it('backs off reconnects from 250 ms up to 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(backoffMs)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });
});
