import { describe, expect, it } from 'vitest';
import { pageAnswers, withPageAnswers } from '../../../electron/server/page-answers.ts';
import { PAGE_ANSWERS_ID } from '../../../electron/shared/page-answers.ts';
import { readPageAnswers } from '../../../renderer/src/api/client.ts';
import { webCaller } from '../../../electron/engine/policy/confine.ts';
import type { DispatchOutcome } from '../../../electron/api/dispatch.ts';

// The library's first answers written into index.html by `vireo serve` (issue 21): what goes
// in, how it is escaped, and that the renderer reads back exactly what was written.

const HTML = '<!doctype html><html><head><title>Vireo</title></head><body>\n<div id="root"></div>\n</body></html>';

/** The data block's text as an HTML parser would end it: at the first `</script`. */
function blockText(html: string): string {
  const open = `<script type="application/json" id="${PAGE_ANSWERS_ID}">`;
  const at = html.indexOf(open);
  expect(at).toBeGreaterThanOrEqual(0);
  const rest = html.slice(at + open.length);
  return rest.slice(0, rest.search(/<\/script/i));
}

describe('page answers in index.html', () => {
  it('puts the answers in a JSON data block before the root element, and leaves a page without answers alone', () => {
    const html = withPageAnswers(HTML, { 'vms.list': [] });
    expect(html.indexOf(`id="${PAGE_ANSWERS_ID}"`)).toBeLessThan(html.indexOf('<div id="root">'));
    expect(JSON.parse(blockText(html))).toEqual({ 'vms.list': [] });
    expect(withPageAnswers(HTML, {})).toBe(HTML);
  });

  it('no VM name can end the block or open a comment in it: every < is escaped', () => {
    const evil = '</script><script>alert(1)</script><!--';
    const html = withPageAnswers(HTML, { 'vms.list': [{ id: 'a', name: evil }] });
    const text = blockText(html);
    expect(text).not.toContain('<');
    expect(JSON.parse(text)).toEqual({ 'vms.list': [{ id: 'a', name: evil }] });
    // the page has exactly one script element: the data block
    expect(html.match(/<script/gi)).toHaveLength(1);
  });

  it('the renderer reads back what the server wrote, and nothing from a page without it or with a broken block', () => {
    const answers = { 'vms.list': [{ id: 'x', name: 'a <b> & "c"' }], 'groups.list': { groups: [] } };
    const doc = (html: string) => ({ getElementById: (id: string) => (id === PAGE_ANSWERS_ID && html.includes(`id="${id}"`) ? { textContent: blockText(html) } : null) }) as unknown as Document;
    expect(Object.fromEntries(readPageAnswers(doc(withPageAnswers(HTML, answers))))).toEqual(answers);
    expect(readPageAnswers(doc(HTML)).size).toBe(0);
    expect(readPageAnswers({ getElementById: () => ({ textContent: '{"vms.list": [' }) } as unknown as Document).size).toBe(0);
    expect(readPageAnswers({ getElementById: () => ({ textContent: '[1,2]' }) } as unknown as Document).size).toBe(0);
  });

  it('gathers only answers that came back ok, never waits past its budget, and asks as the web caller', async () => {
    const seen: unknown[] = [];
    const caller = webCaller();
    const dispatch = (method: string, _args: unknown, c: unknown): Promise<DispatchOutcome> => {
      seen.push(c);
      if (method === 'vms.list') return Promise.resolve({ ok: true, result: [] });
      // groups.list never answers: the page must not wait for it
      return new Promise<DispatchOutcome>(() => undefined);
    };
    expect(await pageAnswers(dispatch, caller, 50)).toEqual({ 'vms.list': [] });
    expect(seen.every((c) => c === caller)).toBe(true);
    const failing = (): Promise<DispatchOutcome> => Promise.resolve({ ok: false, error: { code: 'INTERNAL', message: 'x' } });
    expect(await pageAnswers(failing, caller, 50)).toEqual({});
    const throwing = (): Promise<DispatchOutcome> => Promise.reject(new Error('boom'));
    expect(await pageAnswers(throwing, caller, 50)).toEqual({});
  });
});
