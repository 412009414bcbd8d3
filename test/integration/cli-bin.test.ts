import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT as repo } from './cli-helpers.ts';

// The `vireo` command as package.json's "bin" installs it (npm link, npm exec, node_modules/.bin):
// bin/vireo.js runs the CLI's source through tsx's loader in its own process.

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
});
