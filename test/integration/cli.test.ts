import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createEngine } from '../../electron/engine/index.ts';
import { ensureFixtures } from '../fixtures/guest.ts';
import { qemuPidsFor, waitForReady } from './helpers.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { runVireo } from './cli-helpers.ts';

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


const vireoAsync = (h: string, ...args: string[]) => runVireo(h, args);

describe('vireo CLI', () => {
  it('host --json: KVM present but failing its self-test, auto picks TCG, then cached', () => {
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
    const created = vireo(h, 'create', 'survivor', '--iso', fx.iso, '--firmware', 'bios', '--memory', '192M', '--disk', '64M', '--cpus', '1', '--json');
    expect(created.code, created.stderr).toBe(0);
    const vm = JSON.parse(created.stdout) as VmDetails;

    // A long-lived engine (serve) starts the VM, then dies without any chance to clean up.
    // Node itself with tsx's loader, not the tsx wrapper, so that SIGKILL hits the engine.
    const serve = spawn(process.execPath, ['--import', 'tsx', cliMain, '--home', h, 'serve', '--port', '0', '--token', 'tok'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
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

    // `vireo console`: the guest's serial shell from the command line; Ctrl+] detaches.
    const consoleOut = await new Promise<string>((resolve, reject) => {
      const c = spawn(tsx, [cliMain, '--home', h, 'console', 'survivor'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`console showed no answer: ${out}`));
      }, 30_000);
      c.stdout.on('data', (d) => {
        out += d;
        if (out.includes('vireo-console-42')) c.stdin.write(Buffer.from([0x1d]));
      });
      c.stderr.on('data', (d) => {
        if (String(d).includes('Connected')) c.stdin.write('echo vireo-console-$((6*7))\n');
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`console exited ${code}: ${out}`));
      });
    });
    expect(consoleOut).toContain('vireo-console-42');

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

  it('detect-os names the OS of an install ISO, says unknown with the ids it read, refuses a non-ISO', async () => {
    const h = home();
    const src = join(h, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'README'), 'x');
    const ubuntu = join(h, 'ubuntu.iso');
    spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'Ubuntu 24.04.1 LTS amd64', '-o', ubuntu, src]);
    const r = vireo(h, 'detect-os', ubuntu, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'detected', id: 'ubuntu24.04', family: 'linux', recommended: { cpus: expect.any(Number) } });
    expect(vireo(h, 'detect-os', ubuntu).stdout).toMatch(/Ubuntu 24\.04.*\(ubuntu24\.04\)/);

    const fx = await ensureFixtures();
    const unknown = JSON.parse(vireo(h, 'detect-os', fx.iso, '--json').stdout);
    expect(unknown).toMatchObject({ status: 'unknown', iso: { volumeId: 'VIREO_TESTGUEST' } });

    writeFileSync(join(h, 'notes.iso'), 'not an iso\n'.repeat(5000));
    const bad = vireo(h, 'detect-os', join(h, 'notes.iso'), '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not an ISO 9660 image/) });
  });

  it('disk create, info, resize, convert and check', () => {
    const h = home();
    const img = join(h, 'a.qcow2');
    expect(vireo(h, 'disk', 'create', img, '16M').code).toBe(0);
    const info = JSON.parse(vireo(h, 'disk', 'info', img, '--json').stdout);
    expect(info).toMatchObject({ format: 'qcow2', virtualSize: 16 * 1024 ** 2 });
    expect(JSON.parse(vireo(h, 'disk', 'resize', img, '32M', '--json').stdout).virtualSize).toBe(32 * 1024 ** 2);
    const shrink = vireo(h, 'disk', 'resize', img, '8M', '--json');
    expect(shrink.code).toBe(1);
    expect(JSON.parse(shrink.stderr).message).toMatch(/shrink/);
    const vmdk = join(h, 'b.vmdk');
    spawnSync('qemu-img', ['create', '-q', '-f', 'vmdk', vmdk, '8M']);
    const converted = vireo(h, 'disk', 'convert', vmdk, join(h, 'b.qcow2'), '--json');
    expect(converted.code, converted.stderr).toBe(0);
    expect(JSON.parse(converted.stdout)).toMatchObject({ format: 'qcow2', virtualSize: 8 * 1024 ** 2 });
    expect(JSON.parse(vireo(h, 'disk', 'check', img, '--json').stdout)).toEqual({ ok: true, corruptions: 0, leaks: 0 });
    expect(vireo(h, 'disk', 'create', img, '16M').code).toBe(1); // never overwrites
  });

  it('a long-lived engine (serve, the app) follows VMs the CLI creates, starts and stops', async () => {
    const h = home();
    const fx = await ensureFixtures();
    const engine = await createEngine({ home: h, watch: true });
    try {
      const seen: string[] = [];
      engine.bus.on('vm.state', (e) => seen.push(e.state));
      const changed = new Promise<string>((r) => engine.bus.on('vm.changed', (e) => r(e.id)));
      const created = await vireoAsync(h, 'create', 'follow', '--iso', fx.iso, '--firmware', 'bios', '--memory', '160M', '--disk', '64M', '--cpus', '1', '--json');
      expect(created.code, created.stderr).toBe(0);
      const id = (JSON.parse(created.stdout) as VmDetails).id;
      expect(await changed).toBe(id);
      expect(engine.vms.list().map((v) => v.name)).toEqual(['follow']);

      expect((await vireoAsync(h, 'start', 'follow')).code).toBe(0);
      await waitUntil(() => engine.vms.list()[0]?.state === 'running', 20_000);
      expect((await vireoAsync(h, 'stop', 'follow', '--force')).code).toBe(0);
      await waitUntil(() => engine.vms.list()[0]?.state === 'stopped', 20_000);
      expect(seen).toContain('running');
      expect(qemuPidsFor([id])).toEqual([]);
    } finally {
      await engine.dispose();
    }
  });
});

async function waitUntil(f: () => boolean, ms: number) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
