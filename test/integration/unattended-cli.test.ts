import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVireo } from './cli-helpers.ts';
import { buildInstallerIso, haveNetboot, haveXorriso } from './unattended-helpers.ts';

// Express install from the command line: `vireo unattended OS` says which installer or why
// not (exit 1 when none), `vireo create --unattended …` hands the answers to vms.create, with
// the password from a file, and wrong combinations of flags are usage errors (exit 2). No VM
// is started here (unattended-debian.test.ts boots the installer).

describe.skipIf(!haveNetboot || !haveXorriso)('vireo create --unattended', () => {
  let dir: string;
  let home: string;
  let iso: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vireo-ucli-'));
    home = join(dir, 'home');
    iso = buildInstallerIso(dir);
    writeFileSync(join(dir, 'pw'), 'file secret\nsecond line ignored\n', { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('vireo unattended OS: the installer, or why not with exit 1', async () => {
    const ok = await runVireo(home, ['--json', 'unattended', 'debian12']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ available: true, installer: 'preseed', productKey: false });
    const no = await runVireo(home, ['unattended', 'msdos6.22']);
    expect(no.code).toBe(1);
    expect(no.stdout).toMatch(/no express install: Vireo has no express-install template for msdos6.22/);
  }, 120_000);

  it('creates the VM with the answers; the password (read from --password-file) is not in vm.json', async () => {
    const r = await runVireo(home, ['--json', 'create', 'cli express', '--iso', iso, '--memory', '1G', '--disk', '1G', '--unattended', '--user', 'tester', '--password-file', join(dir, 'pw'), '--hostname', 'clibox', '--timezone', 'Europe/Berlin']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const vm = JSON.parse(r.stdout) as { dir: string; config: { unattended: { append: string } | null } };
    expect(vm.config.unattended?.append).toContain('hostname=clibox');
    const json = readFileSync(join(vm.dir, 'vm.json'), 'utf8');
    expect(json).not.toContain('file secret');
  }, 180_000);

  it('refuses answer flags without --unattended, and --unattended without a user, as usage errors', async () => {
    const stray = await runVireo(home, ['create', 'stray', '--iso', iso, '--user', 'tester']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--user belong to an express install: add --unattended/);
    const missing = await runVireo(home, ['create', 'missing', '--iso', iso, '--unattended', '--password', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs --user, --hostname/);
    // nothing was created by either
    const list = await runVireo(home, ['--json', 'list']);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((v) => v.name)).toEqual(['cli express']);
  }, 180_000);

  it('an OS without a template is refused with the reason, and no VM is left', async () => {
    const r = await runVireo(home, ['create', 'dos', '--iso', iso, '--os', 'msdos6.22', '--unattended', '--user', 'tester', '--password', 'x', '--hostname', 'dosbox']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no express install for this VM: Vireo has no express-install template for msdos6.22/);
    const list = await runVireo(home, ['--json', 'list']);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((v) => v.name)).toEqual(['cli express']);
  }, 180_000);
});
