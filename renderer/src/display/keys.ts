// Key combinations the guest needs but the host would swallow (Ctrl+Alt+Del, Ctrl+Alt+F1 to
// switch a Linux VT, Alt+Tab ...), as X keysyms (RFB KeyEvent) plus the DOM `code` noVNC uses
// to derive the scancode QEMU wants.

export interface Key {
  keysym: number;
  code: string;
}

export interface Combo {
  label: string;
  keys: Key[];
}

export const KEY = {
  ctrl: { keysym: 0xffe3, code: 'ControlLeft' },
  alt: { keysym: 0xffe9, code: 'AltLeft' },
  shift: { keysym: 0xffe1, code: 'ShiftLeft' },
  super: { keysym: 0xffeb, code: 'MetaLeft' },
  del: { keysym: 0xffff, code: 'Delete' },
  backspace: { keysym: 0xff08, code: 'Backspace' },
  tab: { keysym: 0xff09, code: 'Tab' },
  esc: { keysym: 0xff1b, code: 'Escape' },
  print: { keysym: 0xff61, code: 'PrintScreen' },
  sysrq: { keysym: 0xff15, code: 'PrintScreen' },
} as const satisfies Record<string, Key>;

/** F1..F12: keysyms 0xffbe..0xffc9. */
export const fn = (n: number): Key => ({ keysym: 0xffbe + n - 1, code: `F${n}` });

export const COMBOS: Combo[] = [
  { label: 'Ctrl+Alt+Del', keys: [KEY.ctrl, KEY.alt, KEY.del] },
  { label: 'Ctrl+Alt+Backspace', keys: [KEY.ctrl, KEY.alt, KEY.backspace] },
  ...Array.from({ length: 12 }, (_, i) => ({ label: `Ctrl+Alt+F${i + 1}`, keys: [KEY.ctrl, KEY.alt, fn(i + 1)] })),
  { label: 'Alt+Tab', keys: [KEY.alt, KEY.tab] },
  { label: 'Alt+F4', keys: [KEY.alt, fn(4)] },
  { label: 'Super (Windows key)', keys: [KEY.super] },
  { label: 'Print Screen', keys: [KEY.print] },
  { label: 'Escape', keys: [KEY.esc] },
];

/** Press in order, release in reverse: how a person plays a chord. */
export function comboEvents(keys: readonly Key[]): Array<{ key: Key; down: boolean }> {
  return [...keys.map((key) => ({ key, down: true })), ...[...keys].reverse().map((key) => ({ key, down: false }))];
}

/** Ctrl+Alt+G hands the keyboard back to the host page (the VirtualBox/virt-manager habit). */
export function isReleaseChord(e: Pick<KeyboardEvent, 'ctrlKey' | 'altKey' | 'code'>): boolean {
  return e.ctrlKey && e.altKey && e.code === 'KeyG';
}

/** Every modifier on both sides: what a released capture must let go of in the guest. */
export const MODIFIERS: readonly Key[] = [
  KEY.ctrl, { keysym: 0xffe4, code: 'ControlRight' }, KEY.alt, { keysym: 0xffea, code: 'AltRight' },
  KEY.shift, { keysym: 0xffe2, code: 'ShiftRight' }, KEY.super, { keysym: 0xffec, code: 'MetaRight' },
];

/**
 * Key-ups for a keyboard capture that ends while keys are down (Ctrl+Alt+G: Ctrl and Alt
 * reached the guest, their releases go to the page instead). Every modifier, then every other
 * key the page saw go down on the screen; QEMU takes the DOM code (scancode), so a keysym of 0
 * is enough for keys outside the modifier table. A key-up for a key that is not down is
 * harmless to a guest.
 */
export function releaseEvents(heldCodes: Iterable<string>): Array<{ key: Key; down: false }> {
  const mods = new Set(MODIFIERS.map((k) => k.code));
  const others = [...new Set(heldCodes)].filter((c) => !mods.has(c)).map((code): Key => ({ keysym: 0, code }));
  return [...MODIFIERS, ...others].map((key) => ({ key, down: false as const }));
}

export function screenshotName(label: string, at = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
  const safe = label.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'vm';
  return `${safe}-${stamp}.png`;
}

/** Reconnect delay: quick first retries (a guest reboot), then at most every 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(5000, 250 * 2 ** Math.max(0, attempt));
}
