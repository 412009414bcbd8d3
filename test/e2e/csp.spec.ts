import { CSP, cspFor } from '../../electron/shared/csp.ts';
import { expect, test } from './serve.ts';

// The page `vireo serve` sends carries the one CSP (electron/shared/csp.ts) twice: as the
// response header and as the meta tag the build wrote. A copy that drifted fails here.

test('the served page carries the shared CSP as its header and its meta tag', async ({ page, served }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const response = await page.goto(served.url);
  expect(response).not.toBeNull();
  // The token URL is answered by the page itself (with the cookie, no redirect).
  expect(await response!.headerValue('content-security-policy')).toBe(CSP);
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(meta).toBe(cspFor({ meta: true }));
  // The app runs under it: the library shows, the API WebSocket ('self') connected.
  await expect(page.getByRole('navigation', { name: 'Virtual machine library' })).toBeVisible();
  await expect(page.getByTestId('status-qemu')).toContainText('QEMU');
  expect(violations).toEqual([]);
  // The page took the token out of its address and its history entry; the cookie carries it.
  expect(await page.evaluate(() => location.href)).not.toContain('token=');
  await page.reload();
  await expect(page.getByRole('navigation', { name: 'Virtual machine library' })).toBeVisible();
  expect(await page.evaluate(() => location.href)).not.toContain('token=');
});
