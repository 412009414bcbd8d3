import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { expect, spawnServe, test } from './serve.ts';

// Issue 24, "Move to host…" in the app for a VM of the library: a second `vireo serve` (its own
// library, on loopback) is paired as a Vireo host with the secret it keeps; from the Hosts
// section, "Move a VM here…" on it moves a stopped VM of the worker's library there: the VM
// leaves the library list and shows under the host. (The live move and the libvirt target are
// covered by the integration tests vireo-migrate and vireo-offline.)

const VM = 'h2-e2e-move';
let far: { child: ChildProcess; url: string } | null = null;
let farHome = '';

test.describe.configure({ mode: 'serial', timeout: 120_000 });

test.beforeAll(async ({ served }) => {
  test.setTimeout(120_000);
  farHome = await mkdtemp(join(tmpdir(), 'vireo-h2e2e-'));
  far = await spawnServe(farHome, ['--port', '0']);
  const secretFile = join(farHome, 'pairing-secret');
  for (let i = 0; i < 100 && !existsSync(secretFile); i++) await new Promise((r) => setTimeout(r, 100));
  const port = new URL(far.url).port;
  const added = await served.cli(['host', 'add', 'far', `vireo://127.0.0.1:${port}`, '--secret', readFileSync(secretFile, 'utf8').trim()]);
  expect(added.code, added.stderr).toBe(0);
  const made = await served.cli(['create', VM, '--disk', '16M', '--memory', '64M']);
  expect(made.code, made.stderr).toBe(0);
});

test.afterAll(async ({ served }) => {
  // The worker's library is shared with later spec files: leave no host or VM of ours behind.
  await served.cli(['host', 'rm', 'far']);
  await served.cli(['delete', VM]);
  if (far && far.child.exitCode === null) {
    const gone = new Promise((r) => far!.child.once('exit', r));
    far.child.kill('SIGTERM');
    await gone;
  }
  await rm(farHome, { recursive: true, force: true });
});

test('Move a VM here… on a Vireo host moves a stopped VM of the library there', async ({ page, served }) => {
  await page.goto(served.url);
  const library = page.getByRole('navigation').or(page.locator('body'));
  await expect(library.getByText(VM, { exact: true }).first()).toBeVisible({ timeout: 20_000 });
  const hosts = page.getByRole('region', { name: 'Hosts' });
  const hostRow = hosts.locator('li', { has: page.getByText('far', { exact: true }) }).first();
  await expect(hostRow.getByText(/Vireo on/)).toBeVisible({ timeout: 20_000 });
  await hostRow.getByRole('button', { name: 'Move a VM here…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Move to host far' });
  await dialog.getByLabel('VM of this library').selectOption({ label: `${VM} (stopped)` });
  await expect(dialog.getByText(/Its disks, snapshots, UEFI variables and TPM state go to far/)).toBeVisible();
  await dialog.getByRole('button', { name: 'Move', exact: true }).click();
  await expect(dialog).toBeHidden({ timeout: 60_000 });
  await expect(hosts.getByRole('listitem', { name: `${VM} on far, stopped` })).toBeVisible({ timeout: 20_000 });
  const list = await served.cli(['list']);
  expect(list.stdout).not.toContain(VM);
});
