import { writeFile } from 'node:fs/promises';
import { ensureFixtures, guestCmdline } from '../fixtures/guest.ts';
import { libvirtMissing, removeAllDomains, startSessionLibvirt, type SessionLibvirt } from '../integration/libvirt-helpers.ts';
import { expect, test } from './serve.ts';
import { canvasColours } from './canvas.ts';

// Issue 24, acceptance 1 in the app: a private libvirt session daemon (started here, its own
// dirs) added as a host with `vireo host add` appears in the sidebar's Hosts section with its
// domain and state; the domain's screen opens in the app (noVNC through the engine's display
// bridge in front of libvirt's VNC unix socket) and draws the guest; Move to host… moves it
// live to a second daemon; Power off from the section stops it. The domain boots the test guest's kernel directly, so this stays short.
// A second domain's serial console (a unix socket) opens from its row; a command typed there
// is answered by the guest's shell.

const missing = libvirtMissing();
let lv: SessionLibvirt | null = null;
let lv2: SessionLibvirt | null = null;
const DOM = 'h8-e2e-guest';
const CON = 'h2-e2e-console';

test.describe.configure({ mode: 'serial', timeout: 120_000 });
test.skip(!!missing, missing ?? '');

test.beforeAll(async ({ served }) => {
  test.setTimeout(120_000);
  const fx = await ensureFixtures();
  lv = await startSessionLibvirt('e2e');
  const xml = `<domain type='qemu'><name>${DOM}</name><memory unit='MiB'>192</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><kernel>${fx.vmlinux}</kernel><initrd>${fx.initrd}</initrd><cmdline>${await guestCmdline()}</cmdline></os>
  <cpu mode='maximum'/><devices><serial type='pty'><target port='0'/></serial><graphics type='vnc'><listen type='socket'/></graphics><video><model type='vga'/></video></devices></domain>`;
  await writeFile(`${lv.dir}/dom.xml`, xml);
  await lv.virsh(['define', `${lv.dir}/dom.xml`]);
  await lv.virsh(['start', DOM]);
  // A second domain whose serial is a unix socket (as Vireo-made domains have it), for the Console.
  const con = xml.replaceAll(DOM, CON).replace("<serial type='pty'><target port='0'/></serial>", `<serial type='unix'><source mode='bind' path='${lv.dir}/con.sock'/><target port='0'/></serial>`);
  await writeFile(`${lv.dir}/con.xml`, con);
  await lv.virsh(['define', `${lv.dir}/con.xml`]);
  await lv.virsh(['start', CON]);
  const added = await served.cli(['host', 'add', 'lab', lv.uri]);
  expect(added.code, added.stderr).toBe(0);
  // A second host to move it to (same network namespace: the migration streams go over 127.0.0.1).
  lv2 = await startSessionLibvirt('e2e2');
  await lv2.addPool('default');
  const added2 = await served.cli(['host', 'add', 'lab2', lv2.uri]);
  expect(added2.code, added2.stderr).toBe(0);
});

test.afterAll(async ({ served }) => {
  // The worker's library is shared with later spec files: leave no host behind in its sidebar.
  for (const name of ['lab', 'lab2']) await served.cli(['host', 'rm', name]);
  for (const x of [lv, lv2]) {
    if (!x) continue;
    await removeAllDomains(x);
    await x.stop();
  }
});

test("a libvirt domain's serial console opens from its row and takes input", async ({ page, served }) => {
  await page.goto(served.url);
  const hosts = page.getByRole('region', { name: 'Hosts' });
  const row = hosts.getByRole('listitem', { name: `${CON} on lab, running` });
  await expect(row).toBeVisible({ timeout: 20_000 });
  await row.getByRole('button', { name: 'Console' }).click();
  const dialog = page.getByRole('dialog', { name: `Console of ${CON} on lab` });
  await expect(dialog.getByTestId('console-link')).toHaveText('Connected', { timeout: 20_000 });
  // Its boot went by before anyone listened (QEMU drops serial output with no client): what
  // the console shows is the shell answering what is typed here, once the guest is up.
  await dialog.locator('.xterm').click();
  await expect
    .poll(
      async () => {
        await page.keyboard.type('echo H2-E2E-$((20+3))\n');
        return (await dialog.getByTestId('serial-console').textContent()) ?? '';
      },
      { timeout: 90_000, intervals: [3000] },
    )
    .toContain('H2-E2E-23');
  await dialog.getByRole('button', { name: /close/i }).first().click();
  // Done with it: its CPU goes back to the rest of the run.
  await row.getByRole('button', { name: 'Power off' }).click();
  await expect(hosts.getByRole('listitem', { name: `${CON} on lab, stopped` })).toBeVisible({ timeout: 20_000 });
  await lv!.virsh(['undefine', CON]);
});

test("a libvirt host's running domain is listed in the sidebar and its screen opens in the app", async ({ page, served }) => {
  await page.goto(served.url);
  const hosts = page.getByRole('region', { name: 'Hosts' });
  await expect(hosts.getByText('lab', { exact: true })).toBeVisible({ timeout: 20_000 });
  const row = hosts.getByRole('listitem', { name: `${DOM} on lab, running` });
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Screen' }).click();
  const dialog = page.getByRole('dialog', { name: `${DOM} on lab` });
  await expect(dialog.getByText('Connected')).toBeVisible({ timeout: 20_000 });
  // The guest draws: the canvas has a size and more than one colour once the kernel prints.
  await expect
    .poll(
      () => canvasColours(page, '[data-testid="remote-screen"]'),
      { timeout: 60_000 },
    )
    .toBeGreaterThan(1);
  await page.screenshot({ path: 'test-results/hosts-remote-screen.png' });
  await dialog.getByRole('button', { name: /close/i }).first().click();
  // Move to host…: a live move to the second host, from the section.
  await row.getByRole('button', { name: 'Move to host…' }).click();
  const move = page.getByRole('dialog', { name: `Move ${DOM} to another host` });
  await move.getByRole('combobox', { name: 'Host' }).selectOption({ label: 'lab2' });
  await move.getByRole('textbox', { name: /Address/ }).fill('127.0.0.1');
  await move.getByRole('button', { name: 'Move', exact: true }).click();
  await expect(move).toBeHidden({ timeout: 60_000 });
  const moved = hosts.getByRole('listitem', { name: `${DOM} on lab2, running` });
  await expect(moved).toBeVisible({ timeout: 20_000 });
  await expect(hosts.getByRole('list', { name: 'VMs on lab' }).getByText('no VMs')).toBeVisible();
  await moved.getByRole('button', { name: 'Power off' }).click();
  await expect(hosts.getByRole('listitem', { name: `${DOM} on lab2, stopped` })).toBeVisible({ timeout: 20_000 });
});
