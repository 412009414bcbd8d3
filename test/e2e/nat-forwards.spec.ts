import { createServer, connect } from 'node:net';
import { request } from 'node:http';
import type { VmConfig } from '../../electron/api/types.ts';
import { ensureFixtures, waitForSerialText } from '../fixtures/guest.ts';
import { expect, test, type Served } from './serve.ts';

// Issue 14 NAT, in the UI and the CLI against the real engine behind `vireo serve`: the card's
// NAT backend is chosen in Settings and its backend and why are shown; while the guest runs,
// a forward added in Settings reaches the guest's httpd from 127.0.0.1 at once, is saved and
// listed with host:port, and removing it closes the port; `vireo net forward add|ls|rm` do
// the same from the CLI (--json, exit 2 for a malformed spec).

const VM = 'NAT Live';
let serialLog = '';
test.describe.configure({ mode: 'serial', timeout: 240_000 });

async function config(served: Served): Promise<VmConfig> {
  const r = await served.cli(['--json', 'show', VM]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { config: VmConfig }).config;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const closed = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

test.beforeAll(async ({ served, browser }) => {
  test.setTimeout(300_000);
  const { iso } = await ensureFixtures();
  const made = await served.cli(['create', VM, '--iso', iso, '--os', 'unknown', '--disk', '10G', '--memory', '192M', '--accel', 'tcg', '--firmware', 'bios']);
  expect(made.code, made.stderr).toBe(0);
  serialLog = (JSON.parse((await served.cli(['--json', 'show', VM])).stdout) as { paths: { serialLog: string } }).paths.serialLog;

  // The NAT backend is the card's setting: slirp here (live forwards without replacing a process).
  const page = await browser.newPage();
  await page.goto(served.url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: VM }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'Network', exact: true }).click();
  const net0 = settings.getByRole('group', { name: 'Network card net0' });
  await expect(net0.getByTestId('nat-net0')).toContainText(/a start uses (passt|slirp)/);
  await net0.getByLabel('NAT backend of net0').selectOption('slirp');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden();
  expect((await config(served)).networks[0]!.natBackend).toBe('slirp');
  await page.close();

  const started = await served.cli(['start', VM]);
  expect(started.code, started.stderr).toBe(0);
  await waitForSerialText(serialLog, /VIREO-GUEST-READY/, 150_000);
  // The tty1 shell: DHCP, then the httpd; both report on the serial line.
  const typed = await served.cli(['type', VM, 'netup eth0 >/dev/ttyS0; httpserve 8080 >/dev/ttyS0', '--enter']);
  expect(typed.code, typed.stderr).toBe(0);
  await waitForSerialText(serialLog, /NETUP eth0 10\.0\.2\.15\/\d+ gw 10\.0\.2\.2[\s\S]*HTTPD-UP 8080/, 90_000);
});

test.afterAll(async ({ served }) => {
  await served.cli(['stop', VM, '--force']);
});

test('a forward added in Settings while the VM runs reaches the guest, is saved and shown, and closes when removed', async ({ page, served }) => {
  const port = await freePort();
  await page.goto(served.url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: VM }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'Network', exact: true }).click();
  const net0 = settings.getByRole('group', { name: 'Network card net0' });
  await expect(net0.getByTestId('nat-net0')).toContainText("runs on slirp: slirp chosen in the card's settings");
  const live = net0.getByRole('group', { name: 'Live port forwards of net0' });
  await expect(live).toContainText('open connections stay');
  await live.getByLabel('Host port of the new forward').fill(String(port));
  await live.getByLabel('Guest port of the new forward').fill('8080');
  await live.getByRole('button', { name: 'Add now' }).click();
  await expect(live.getByTestId('live-forward')).toHaveText(`127.0.0.1:${port} → guest 8080 (TCP)`);
  expect(await get(port)).toMatch(/^VIREO-HTTPD /);
  expect((await config(served)).networks[0]!.portForwards).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 8080 }]);
  await page.screenshot({ path: 'test-results/nat-live-forward.png' });

  // A web caller (this page) may bind loopback only: 0.0.0.0 is refused with the reason.
  await live.getByLabel('Host address of the new forward').fill('0.0.0.0');
  await live.getByLabel('Host port of the new forward').fill(String(await freePort()));
  await live.getByLabel('Guest port of the new forward').fill('8080');
  await live.getByRole('button', { name: 'Add now' }).click();
  await expect(live.getByRole('alert')).toContainText('only loopback');

  await live.getByRole('button', { name: `Remove forward 127.0.0.1:${port}` }).click();
  await expect(live.getByTestId('live-forward')).toHaveCount(0);
  expect(await closed(port)).toBe(true);
  expect((await config(served)).networks[0]!.portForwards).toEqual([]);
});

test('vireo net forward add, ls and rm change the running VM (--json; a malformed spec is exit 2)', async ({ served }) => {
  const port = await freePort();
  const bad = await served.cli(['net', 'forward', 'add', VM, 'tcp:localhost:80']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('is not a forward');

  const added = await served.cli(['--json', 'net', 'forward', 'add', VM, `tcp:127.0.0.1:${port}:8080`]);
  expect(added.code, added.stderr).toBe(0);
  expect(JSON.parse(added.stdout)).toMatchObject({ running: true, nics: [{ nic: 'net0', backend: 'slirp', forwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 8080 }] }] });
  expect(await get(port)).toMatch(/^VIREO-HTTPD /);

  const ls = await served.cli(['net', 'forward', 'ls', VM]);
  expect(ls.code, ls.stderr).toBe(0);
  expect(ls.stdout).toContain(`127.0.0.1:${port}`);
  expect(ls.stdout).toContain('net0: slirp');

  const again = await served.cli(['net', 'forward', 'add', VM, `${port}:22`]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('is already forwarded');

  const rm = await served.cli(['--json', 'net', 'forward', 'rm', VM, `tcp:127.0.0.1:${port}`]);
  expect(rm.code, rm.stderr).toBe(0);
  expect(JSON.parse(rm.stdout).nics[0].forwards).toEqual([]);
  expect(await closed(port)).toBe(true);
});
