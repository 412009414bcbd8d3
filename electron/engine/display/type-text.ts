import { VireoError } from '../../api/errors.ts';
import type { QmpClient } from '../qmp/client.ts';

// "Type text": a string sent to the guest as key presses, for places no clipboard reaches
// (installers, Windows setup, a firmware prompt, a guest without an agent). QEMU takes keys
// as qcodes — physical key positions, not characters — so a character becomes the key that
// produces it on a US keyboard, with Shift where the US layout needs it. A guest set to
// another layout gets the characters its layout puts on those keys (letters and digits
// mostly survive; symbols move), which the UI says next to the control.

/**
 * Milliseconds each key stays down, and the pause after each character. QEMU queues key
 * events behind a timer and drops them past its queue limit, and a slow (TCG) guest's PS/2
 * buffer overflows on bursts, so characters go one by one with the queue drained in between.
 */
export const HOLD_MS = 10;
export const GAP_MS = 25;

const UNSHIFTED: Record<string, string> = {
  ' ': 'spc', '\n': 'ret', '\t': 'tab', '-': 'minus', '=': 'equal', '[': 'bracket_left', ']': 'bracket_right',
  '\\': 'backslash', ';': 'semicolon', "'": 'apostrophe', '`': 'grave_accent', ',': 'comma', '.': 'dot', '/': 'slash',
};
const SHIFTED: Record<string, string> = {
  '!': '1', '@': '2', '#': '3', $: '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0',
  _: 'minus', '+': 'equal', '{': 'bracket_left', '}': 'bracket_right', '|': 'backslash', ':': 'semicolon',
  '"': 'apostrophe', '~': 'grave_accent', '<': 'comma', '>': 'dot', '?': 'slash',
};

/** The qcodes pressed together for one character on a US layout, or null when it has no key. */
export function keysFor(ch: string): string[] | null {
  if (/^[a-z0-9]$/.test(ch)) return [ch];
  if (/^[A-Z]$/.test(ch)) return ['shift', ch.toLowerCase()];
  if (UNSHIFTED[ch]) return [UNSHIFTED[ch]];
  if (SHIFTED[ch]) return ['shift', SHIFTED[ch]];
  return null;
}

/**
 * The key chords for a text, one per character; CR LF and a lone CR are Enter. Refuses the
 * whole text, before anything is typed, when a character has no key, naming each one.
 */
export function typingPlan(text: string): string[][] {
  const normalized = text.replace(/\r\n?/g, '\n');
  const chords: string[][] = [];
  const refused = new Set<string>();
  for (const ch of normalized) {
    const keys = keysFor(ch);
    if (keys) chords.push(keys);
    else refused.add(ch);
  }
  if (refused.size) {
    const list = [...refused].map(describeChar);
    throw new VireoError(
      'INVALID_ARGUMENT',
      `cannot type ${list.join(', ')}: "Type text" sends keys of a US keyboard (letters, digits, punctuation, space, tab, Enter); ` +
        'remove those characters, or paste them through the shared clipboard instead',
      { refused: [...refused] },
    );
  }
  return chords;
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp < 0x20 || cp === 0x7f || /\s/u.test(ch) ? hex : `"${ch}" (${hex})`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Types the text through QMP `send-key`, one chord per character. */
export async function typeText(qmp: Pick<QmpClient, 'execute'>, text: string): Promise<{ typed: number }> {
  const chords = typingPlan(text);
  for (const keys of chords) {
    await qmp.execute('send-key', { keys: keys.map((k) => ({ type: 'qcode', data: k })), 'hold-time': HOLD_MS });
    await sleep(HOLD_MS + GAP_MS);
  }
  return { typed: chords.length };
}
