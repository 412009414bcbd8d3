import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT as repo } from './cli-helpers.ts';

// The `vireo` command as package.json's "bin" installs it (npm link, npm exec, node_modules/.bin):
// bin/vireo.js runs the CLI's source through tsx's loader in its own process, or the bundled
// CLI (.vite/build/cli.mjs, scripts/build-cli.mjs) that installed packages and the app ship.

describe('the vireo bin', () => {
  const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  it('package.json names bin/vireo.js, which runs the CLI (--version, --help)', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ vireo: 'bin/vireo.js' });
    const v = spawnSync(process.execPath, [join(repo, pkg.bin.vireo!), '--version'], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    const h = spawnSync(process.execPath, [join(repo, 'bin', 'vireo.js'), '--help'], { encoding: 'utf8' });
    expect(h.stdout).toMatch(/\brun \[options\] <command\.\.\.>/);
    expect(h.stdout).toMatch(/\bwait \[options\] <vm>/);
    expect(h.stdout).toMatch(/\bssh <vm> \[args\.\.\.\]/);
  }, 60_000);

  it('npm exec vireo -- --version finds and runs it', () => {
    const r = spawnSync('npm', ['exec', '--offline', '--', 'vireo', '--version'], { cwd: repo, encoding: 'utf8', env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  }, 60_000);

  it('the bundled CLI runs on plain Node with no node_modules or tsx in reach, and bin/vireo.js uses it on request', () => {
    const b = spawnSync(process.execPath, [join(repo, 'scripts', 'build-cli.mjs')], { cwd: repo, encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    // A copy outside the project: only the bundle, package.json (its version) and resources/.
    const dir = mkdtempSync(join(tmpdir(), 'vireo-cli-bundle-'));
    try {
      mkdirSync(join(dir, '.vite', 'build'), { recursive: true });
      copyFileSync(join(repo, '.vite', 'build', 'cli.mjs'), join(dir, '.vite', 'build', 'cli.mjs'));
      copyFileSync(join(repo, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(repo, 'resources'), join(dir, 'resources'));
      const home = join(dir, 'home');
      const v = spawnSync(process.execPath, [join(dir, '.vite', 'build', 'cli.mjs'), '--version'], { cwd: dir, encoding: 'utf8' });
      expect(v.status, v.stderr).toBe(0);
      expect(v.stdout.trim()).toBe(version);
      // Nothing but the command's own output: no module of the bundle may act as a script
      // (gen-os-table.ts once rewrote resources/os/os-table.json from inside it).
      const l = spawnSync(process.execPath, [join(dir, '.vite', 'build', 'cli.mjs'), 'list', '--json', '--home', home], { cwd: dir, encoding: 'utf8' });
      expect(l.status, l.stderr).toBe(0);
      expect(JSON.parse(l.stdout)).toEqual([]);
      const c = spawnSync(process.execPath, [join(dir, '.vite', 'build', 'cli.mjs'), 'create', 'bundled', '--disk', '16M', '--memory', '64M', '--json', '--home', home], { cwd: dir, encoding: 'utf8' });
      expect(c.status, c.stderr).toBe(0);
      expect((JSON.parse(c.stdout) as { name: string }).name).toBe('bundled');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const viaBin = spawnSync(process.execPath, [join(repo, 'bin', 'vireo.js'), '--version'], { encoding: 'utf8', env: { ...process.env, VIREO_CLI: 'bundle' } });
    expect(viaBin.status, viaBin.stderr).toBe(0);
    expect(viaBin.stdout.trim()).toBe(version);
  }, 120_000);

  it('runs without tsx in reach: a fresh checkout builds its bundle at the first call, and an edited source is live at the next', () => {
    // A checkout of our own: the sources copied (so one can be edited), node_modules with every
    // package but tsx, no .vite/build yet.
    const dir = mkdtempSync(join(tmpdir(), 'vireo-cli-notsx-'));
    try {
      for (const d of ['electron', 'scripts', 'bin']) cpSync(join(repo, d), join(dir, d), { recursive: true });
      copyFileSync(join(repo, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(repo, 'resources'), join(dir, 'resources'));
      mkdirSync(join(dir, 'node_modules'));
      for (const name of readdirSync(join(repo, 'node_modules'))) {
        if (name !== 'tsx' && name !== '.bin') symlinkSync(join(repo, 'node_modules', name), join(dir, 'node_modules', name));
      }
      const noTsx = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('tsx/esm/api')"], { cwd: dir, encoding: 'utf8' });
      expect(noTsx.status, 'tsx must not be importable from the copy').not.toBe(0);
      const home = join(dir, 'home');
      const env = { ...process.env, VIREO_CLI: '' };
      const l = spawnSync(process.execPath, [join(dir, 'bin', 'vireo.js'), 'list', '--json', '--home', home], { cwd: dir, encoding: 'utf8', env });
      expect(l.status, l.stderr).toBe(0);
      expect(JSON.parse(l.stdout)).toEqual([]);
      expect(existsSync(join(dir, '.vite', 'build', 'cli.mjs'))).toBe(true);
      expect(existsSync(join(dir, '.vite', 'build', 'cli-quick.mjs'))).toBe(true);
      // An edit (the empty library's text) shows at the next call: the bundle is rebuilt.
      const out = join(dir, 'electron', 'cli', 'output.ts');
      writeFileSync(out, readFileSync(out, 'utf8').replace('No VMs yet.', 'Nothing here yet.'));
      const later = new Date(statSync(join(dir, '.vite', 'build', 'cli.mjs')).mtimeMs + 5000);
      utimesSync(out, later, later);
      const l2 = spawnSync(process.execPath, [join(dir, 'bin', 'vireo.js'), 'list', '--home', home], { cwd: dir, encoding: 'utf8', env });
      expect(l2.status, l2.stderr).toBe(0);
      expect(l2.stdout).toMatch(/^Nothing here yet\./);
      // A source that does not bundle: a clear error and exit 1, not a stale bundle or a stack.
      writeFileSync(out, `${readFileSync(out, 'utf8')}\nexport const = ;\n`);
      utimesSync(out, new Date(later.getTime() + 5000), new Date(later.getTime() + 5000));
      const bad = spawnSync(process.execPath, [join(dir, 'bin', 'vireo.js'), 'list', '--home', home], { cwd: dir, encoding: 'utf8', env });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/vireo: the CLI could not be bundled from this checkout's sources/);
      expect(bad.stdout).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('answers list and show through a running owner from the small cli-quick bundle alone (no engine, zod or commander in it)', async () => {
    const b = spawnSync(process.execPath, [join(repo, 'scripts', 'build-cli.mjs')], { cwd: repo, encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    const inputs = (JSON.parse(readFileSync(join(repo, '.vite', 'build', 'cli-inputs.json'), 'utf8')) as Record<string, string[]>)['cli-quick']!;
    expect(inputs).toContain('electron/cli/quick.ts');
    expect(inputs.filter((f) => /engine\/(?!paths\.ts)|api\/(contract|schemas)|osdetect|qemu/.test(f))).toEqual([]);
    const quickText = readFileSync(join(repo, '.vite', 'build', 'cli-quick.mjs'), 'utf8');
    expect(quickText.length).toBeLessThan(30_000);
    expect(quickText).not.toMatch(/from ['"](zod|commander|ws)['"]/);

    const dir = mkdtempSync(join(tmpdir(), 'vireo-cli-quick-'));
    const home = join(dir, 'home');
    const env = { ...process.env, VIREO_CLI: '', VIREO_HOME: home };
    const made = spawnSync(process.execPath, [join(repo, 'bin', 'vireo.js'), 'create', 'quick-a', '--disk', '16M', '--memory', '64M', '--json'], { encoding: 'utf8', env });
    expect(made.status, made.stderr).toBe(0);
    const serve = spawn(process.execPath, [join(repo, 'bin', 'vireo.js'), 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        let text = '';
        const t = setTimeout(() => reject(new Error(`vireo serve did not start: ${text}`)), 60_000);
        const on = (d: Buffer) => {
          text += d.toString();
          if (/serving at http/.test(text)) {
            clearTimeout(t);
            resolve();
          }
        };
        serve.stdout!.on('data', on);
        serve.stderr!.on('data', on);
        serve.once('exit', (c) => reject(new Error(`vireo serve exited with ${c}: ${text}`)));
      });
      // An install with only bin/vireo.js and cli-quick.mjs: list and show must not need cli.mjs.
      const inst = join(dir, 'inst');
      mkdirSync(join(inst, 'bin'), { recursive: true });
      mkdirSync(join(inst, '.vite', 'build'), { recursive: true });
      copyFileSync(join(repo, 'bin', 'vireo.js'), join(inst, 'bin', 'vireo.js'));
      copyFileSync(join(repo, '.vite', 'build', 'cli-quick.mjs'), join(inst, '.vite', 'build', 'cli-quick.mjs'));
      const run = (...args: string[]) => spawnSync(process.execPath, [join(inst, 'bin', 'vireo.js'), ...args], { cwd: dir, encoding: 'utf8', env });
      const l = run('list', '--json');
      expect(l.status, l.stderr).toBe(0);
      expect((JSON.parse(l.stdout) as { name: string }[]).map((v) => v.name)).toEqual(['quick-a']);
      expect(run('ls').stdout).toMatch(/^NAME\s+STATE[\s\S]*quick-a\s+stopped/);
      const s = run('show', 'quick-a', '--json');
      expect(s.status, s.stderr).toBe(0);
      expect((JSON.parse(s.stdout) as { name: string; state: string }).state).toBe('stopped');
      const missing = run('show', 'no-such-vm', '--json');
      expect(missing.status).toBe(1);
      expect((JSON.parse(missing.stderr) as { code: string }).code).toBe('NOT_FOUND');
      // Anything else needs the full CLI, which this install lacks: proof the answers above did not use it.
      const other = run('host', '--json');
      expect(other.status).toBe(1);
      expect(other.stderr).toMatch(/bundled CLI is missing/);
    } finally {
      const gone = new Promise((r) => serve.once('exit', r));
      serve.kill('SIGTERM');
      await gone;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
