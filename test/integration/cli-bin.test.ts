import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
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
});
