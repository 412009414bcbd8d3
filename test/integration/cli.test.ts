import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createEngine } from '../../electron/engine/index.ts';
import { ensureFixtures } from '../fixtures/guest.ts';
import { qemuPidsFor, waitForReady } from './helpers.ts';
import type { VmDetails } from '../../electron/api/types.ts';

// The `vireo` command as a user or a script runs it: a separate process per command.

const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const cliMain = join(root, 'electron', 'cli', 'main.ts');
const homes: string[] = [];

function home() {
  const h = mkdtempSync(join(tmpdir(), 'vireo-cli-'));
  homes.push(h);
  return h;
}
afterAll(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

function vireo(h: string, ...args: string[]) {
  const t0 = Date.now();
  const r = spawnSync(tsx, [cliMain, '--home', h, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

describe('vireo CLI', () => {
  it('host --json: KVM present but failing its self-test, auto picks TCG; verdict < 10 s, then cached', () => {
    const h = home();
    const first = vireo(h, 'host', '--json');
    expect(first.code, first.stderr).toBe(0);
    const info = JSON.parse(first.stdout);
    expect(info.qemu).toMatchObject({ found: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(info.accel.chosen).toBe('tcg');
    expect(info.accel.cached).toBe(false);
    const kvm = info.accel.candidates.find((c: { accel: string }) => c.accel === 'kvm');
    expect(kvm).toMatchObject({ present: true, ok: false });
    expect(info.accel.reason).toMatch(/KVM.*(failed|did not).*TCG/is);
    expect(first.ms).toBeLessThan(10_000);

    const second = vireo(h, 'host', '--json');
    expect(JSON.parse(second.stdout).accel).toMatchObject({ chosen: 'tcg', cached: true });
    const human = vireo(h, 'host');
    expect(human.stdout).toMatch(/Accelerator: TCG/);
  });

  it('exit codes: 0 ok, 1 error with {code,message} on stderr, 2 usage', () => {
    const h = home();
    expect(vireo(h, 'list', '--json')).toMatchObject({ code: 0, stdout: '[]\n' });
    const missing = vireo(h, 'show', 'nope', '--json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toEqual({ code: 'NOT_FOUND', message: expect.stringMatching(/no VM named or with id "nope"/) });
    expect(vireo(h, 'frobnicate').code).toBe(2);
    expect(vireo(h, 'create').code).toBe(2);
    expect(vireo(h, 'create', 'x', '--cpus', 'many').code).toBe(2);
    const bad = vireo(h, 'create', 'x', '--accel', 'warp');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/warp/);
  });

  it('a VM outlives the engine that started it (SIGKILL); a new engine re-attaches and stops it', async () => {
    const h = home();
    const fx = await ensureFixtures();
    const created = vireo(h, 'create', 'survivor', '--iso', fx.iso, '--memory', '192M', '--disk', '64M', '--cpus', '1', '--json');
    expect(created.code, created.stderr).toBe(0);
    const vm = JSON.parse(created.stdout) as VmDetails;

    // A long-lived engine (serve) starts the VM, then dies without any chance to clean up.
    const serve = spawn(tsx, [cliMain, '--home', h, 'serve', '--port', '0', '--token', 'tok'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      serve.stdout.on('data', (d) => {
        out += d;
        const m = /serving at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      serve.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    const ws = new WebSocket(url.replace('http', 'ws').replace('/?token=', '/api?token='));
    await new Promise((r) => ws.once('open', r));
    const reply = new Promise<{ result?: VmDetails; error?: unknown }>((r) =>
      ws.on('message', (d) => {
        const m = JSON.parse(String(d));
        if (m.id === 1) r(m);
      }),
    );
    ws.send(JSON.stringify({ id: 1, method: 'vms.start', args: { vm: 'survivor' } }));
    const started = await reply;
    expect(started.error).toBeUndefined();
    const pid = started.result!.runtime.pid!;
    ws.terminate();
    serve.kill('SIGKILL');
    await new Promise((r) => serve.once('exit', r));

    await waitForReady(vm);
    expect(qemuPidsFor([vm.id])).toEqual([pid]);

    const listed = vireo(h, 'list', '--json');
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ name: 'survivor', state: 'running' });
    const shown = JSON.parse(vireo(h, 'show', 'survivor', '--json').stdout) as VmDetails;
    expect(shown.runtime.pid).toBe(pid);

    const engine = await createEngine({ home: h });
    try {
      expect(engine.vms.list()[0]).toMatchObject({ state: 'running' });
      const stopped = await engine.client.call('vms.stop', { vm: 'survivor' });
      expect(stopped.state).toBe('stopped');
      expect(stopped.crash).toBeNull();
    } finally {
      await engine.dispose();
    }
    expect(qemuPidsFor([vm.id])).toEqual([]);
  });
});
