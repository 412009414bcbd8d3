import type { WebCaller } from '../api/define.ts';
import type { DispatchOutcome } from '../api/dispatch.ts';
import { PAGE_ANSWER_METHODS, PAGE_ANSWERS_ID } from '../shared/page-answers.ts';

// The library's first answers, written into index.html for a page that holds the token, so
// its first paint does not wait for the API WebSocket to open and answer (issue 21). The page
// is only ever served after the token check (server.ts), never cached (no-store), and the
// answers are the ones that page's own API socket would get: the same dispatch, the same web
// caller. The renderer takes each answer once, before its socket opens, and reloads everything
// when the socket opens (the views' reconnect epoch), so nothing that changed in between is lost.

/** A page is never held back longer than this for its answers; a late one is left out. */
const BUDGET_MS = 150;

type Dispatch = (method: string, args: unknown, caller: WebCaller) => Promise<DispatchOutcome>;

/** The answers that came back ok within the budget, by method name. */
export async function pageAnswers(dispatch: Dispatch, caller: WebCaller, budgetMs = BUDGET_MS): Promise<Record<string, unknown>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), budgetMs)));
  try {
    const outs = await Promise.all(
      PAGE_ANSWER_METHODS.map((m) => Promise.race([dispatch(m, {}, caller).catch(() => null), late]).then((out) => [m, out] as const)),
    );
    const answers: Record<string, unknown> = {};
    for (const [m, out] of outs) if (out?.ok) answers[m] = out.result;
    return answers;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * index.html with the answers as a JSON data block (not a script: the CSP's script-src does not
 * apply to it, and the browser never runs it). Every `<` is escaped as \u003c, so no VM name or
 * description can close the element (`</script>`) or open a comment in it.
 */
export function withPageAnswers(html: string, answers: Record<string, unknown>): string {
  if (Object.keys(answers).length === 0) return html;
  const json = JSON.stringify(answers).replace(/</g, '\\u003c');
  const block = `<script type="application/json" id="${PAGE_ANSWERS_ID}">${json}</script>`;
  const at = html.indexOf('<div id="root">');
  return at < 0 ? html.replace('</body>', `${block}</body>`) : `${html.slice(0, at)}${block}${html.slice(at)}`;
}
