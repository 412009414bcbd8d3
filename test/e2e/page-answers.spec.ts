import { expect, test } from './serve.ts';
import type { WebSocketRoute } from '@playwright/test';

// The library is drawn from the page's own answers (issue 21): `vireo serve` writes vms.list
// into index.html, so the list shows before the API socket has answered anything; the page's
// own vms.list then replaces it, so a VM made in between appears once the socket answers.

test('the library shows from the page while the API answers nothing, and the live answer replaces it', async ({ page, served }) => {
  const made = await served.cli(['create', 'answered-a', '--disk', '16M', '--memory', '64M']);
  expect(made.code, made.stderr).toBe(0);

  // Every request the page sends on /api is held until released; events still reach it.
  const held: string[] = [];
  let release: (() => void) | null = null;
  await page.routeWebSocket(
    (url) => url.pathname === '/api',
    (ws: WebSocketRoute) => {
      const server = ws.connectToServer();
      let open = false;
      release = () => {
        open = true;
        for (const m of held.splice(0)) server.send(m);
      };
      ws.onMessage((m) => (open ? server.send(m) : held.push(String(m))));
    },
  );

  await page.goto(served.url);
  const list = page.getByRole('navigation', { name: 'Virtual machine library' });
  await expect(list.getByText('answered-a')).toBeVisible();
  await expect.poll(() => held.some((m) => m.includes('"vms.list"'))).toBe(true);
  // Nothing was answered: the row came from the page.
  expect(release).not.toBeNull();

  const later = await served.cli(['create', 'answered-b', '--disk', '16M', '--memory', '64M']);
  expect(later.code, later.stderr).toBe(0);
  await expect(list.getByText('answered-b')).toHaveCount(0);

  release!();
  await expect(list.getByText('answered-b')).toBeVisible();
  await expect(list.getByText('answered-a')).toBeVisible();
});
