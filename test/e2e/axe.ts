import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

// Every axe rule that runs by default (WCAG A/AA and the best practices such as
// landmark-unique and heading-order), every impact: a screen passes only with zero violations.
// No rule is disabled.

export async function axeViolations(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

/** Asserts that the page as it is now has no axe violation at all. */
export async function expectNoAxeViolations(page: Page, screen: string): Promise<void> {
  expect(await axeViolations(page), `axe on ${screen}`).toEqual([]);
}
