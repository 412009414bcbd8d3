import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { createEngine } from '../../electron/engine/index.ts';
import { ownerSocketPath, runtimeRoot } from '../../electron/engine/paths.ts';
import { connectOwner, type SocketClient } from '../../electron/api/socket-client.ts';
import type { WireError } from '../../electron/api/errors.ts';
import type { VmDetails, VmSummary } from '../../electron/api/types.ts';
import { qemuPidsFor } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// Issue 13, acceptance 2: one engine per library. Every race runs 20 times between separate
// processes (an owner like the app or `vireo serve`, and processes that open the library the
// way a `vireo` command does), over the real socket, with real QEMU. Never a double QEMU, never
// two VMs with one name, never a ghost; the loser gets a typed error.
// The VMs have no OS to boot (an empty disk, no ISO): QEMU starts and sits in its firmware.

const ROUNDS = 20;
const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const workerMain = join(import.meta.dirname, 'owner-worker.ts');
const cliMain = join(root, 'electron', 'cli', 'main.ts');

type Reply = { n: number; ok: true; result: unknown } | { n: number; ok: false; error: WireError };

/** A separate process: `own` holds the library, `race` opens it per call like a CLI command. */
class Worker {
  private waiting = new Map<number, (r: Reply) => void>();
  private seq = 0;
  readonly exited: Promise<number | null>;
  private constructor(
    readonly proc: ChildProcessWithoutNullStreams,
    readonly pid: number,
  ) {
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  }

  static start(mode: 'own' | 'race', home: string): Promise<Worker> {
    // Node itself with tsx's loader, not the tsx wrapper: the pid we kill -9 is the one that
    // holds the lock.
    const proc = spawn(process.execPath, ['--import', 'tsx', workerMain, mode, home], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    workers.add(proc);
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve, reject) => {
      const rl = createInterface({ input: proc.stdout });
      let w: Worker | null = null;
      rl.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: number } & Reply;
        if (msg.ready) {
          expect(msg.ready).toBe(proc.pid);
          w = new Worker(proc, msg.ready);
          return resolve(w);
        }
        w?.waiting.get(msg.n)?.(msg);
        w?.waiting.delete(msg.n);
      });
      proc.once('exit', (code) => reject(new Error(`${mode} worker exited ${code} before it was ready: ${stderr}`)));
    });
  }

  call(method: string, args: unknown): Promise<Reply> {
    const n = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(n, resolve);
      this.proc.stdin.write(JSON.stringify({ n, method, args }) + '\n');
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    this.proc.kill(signal);
    await this.exited;
    workers.delete(this.proc);
  }
}

const workers = new Set<ChildProcess>();
const homes: string[] = [];
const clients: SocketClient[] = [];
const started: string[] = [];

function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'vireo-2e-'));
  homes.push(h);
  return h;
}
const sockOf = (h: string) => ownerSocketPath(runtimeRoot(h), h);
async function clientOf(h: string): Promise<SocketClient> {
  const c = await connectOwner(sockOf(h));
  clients.push(c);
  return c;
}
/** Folders in the library that are not a finished VM (staging, trash, or a folder without vm.json). */
function leftovers(h: string, except: string[] = []): string[] {
  const dir = join(h, 'vms');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => !except.includes(n) && (n.startsWith('.') || !existsSync(join(dir, n, 'vm.json'))));
}
const codes = (rs: Reply[]) => rs.filter((r): r is Extract<Reply, { ok: false }> => !r.ok).map((r) => r.error.code);
const VM = { memory: '32M', cpus: 1, disk: '16M' };

afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  for (const p of workers) p.kill('SIGKILL');
  workers.clear();
});
afterAll(async () => {
  // Nothing this suite started may outlive it.
  for (const pid of qemuPidsFor(started)) process.kill(pid, 'SIGKILL');
  homes.forEach((h) => rmSync(h, { recursive: true, force: true }));
  homes.forEach((h) => rmSync(runtimeRoot(h), { recursive: true, force: true }));
});

describe('one engine per library', () => {
  it('a second engine gets BUSY naming the owner; kill -9 of the owner frees the library at once', async () => {
    const h = home();
    const owner = await Worker.start('own', h);
    const busy = await createEngine({ home: h }).then(
      () => null,
      (e: { code: string; message: string; details: unknown }) => e,
    );
    expect(busy).toMatchObject({ code: 'BUSY', details: { pid: owner.pid, role: 'serve' } });
    expect(busy!.message).toMatch(new RegExp(`in use by \`vireo serve\` \\(pid ${owner.pid}\\)`));
    // The owner's socket is only for this user.
    expect(statSync(sockOf(h)).mode & 0o777).toBe(0o600);
    expect(statSync(runtimeRoot(h)).mode & 0o777).toBe(0o700);

    await owner.stop('SIGKILL');
    const next = await createEngine({ home: h });
    try {
      expect(await next.client.call('vms.list', {})).toEqual([]);
    } finally {
      await next.dispose();
    }
  });

  it('one library reached by two paths (a symlink) is still one owner; the CLI finds it by either', async () => {
    const h = home();
    const linkParent = mkdtempSync(join(tmpdir(), 'vireo-2e-link-'));
    const link = join(linkParent, 'library');
    homes.push(link, linkParent);
    symlinkSync(h, link);
    const owner = await Worker.start('own', h);
    await expect(createEngine({ home: link })).rejects.toMatchObject({ code: 'BUSY', details: { pid: owner.pid } });
    const made = await runCli(link, 'create', 'via-link', '--memory', '32M', '--cpus', '1', '--disk', '16M', '--json');
    expect(made.code, made.stderr).toBe(0);
    const c = await clientOf(h);
    expect((await c.call('vms.list', {})).map((v) => v.name)).toEqual(['via-link']);
  });

  it(`only the owner sweeps: ${ROUNDS} other engines and a CLI leave an in-progress create alone`, async () => {
    const h = home();
    const owner = await Worker.start('own', h);
    // A create the owner has under way, as its Library stages it.
    const staging = join(h, 'vms', `.creating-${randomUUID()}`);
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'disk0.qcow2'), 'in progress');
    // And a real import-create running while the others try to open the library.
    const raw = join(h, 'import.raw');
    writeFileSync(raw, randomBytes(24 * 1024 ** 2));
    const racer = await Worker.start('race', h);
    const importing = racer.call('vms.create', { name: 'imported', importDisk: raw, memory: '32M', cpus: 1 });
    for (let i = 0; i < ROUNDS; i++) {
      await expect(createEngine({ home: h })).rejects.toMatchObject({ code: 'BUSY', details: { pid: owner.pid } });
      expect(existsSync(join(staging, 'disk0.qcow2'))).toBe(true);
    }
    const cli = await runCli(h, 'list', '--json');
    expect(cli.code, cli.stderr).toBe(0);
    const imported = await importing;
    expect(imported, JSON.stringify(imported)).toMatchObject({ ok: true, result: { name: 'imported' } });
    expect(JSON.parse(cli.stdout) as VmSummary[]).toEqual(expect.any(Array));
    expect(existsSync(join(staging, 'disk0.qcow2'))).toBe(true);
    expect(leftovers(h, [staging.split('/').pop()!])).toEqual([]);
  });

  it('an owner killed mid-call: its client is told the outcome is unknown; the next owner sweeps what it left', async () => {
    const h = home();
    const owner = await Worker.start('own', h);
    const raw = join(h, 'big.raw');
    writeFileSync(raw, randomBytes(48 * 1024 ** 2));
    const c = await clientOf(h);
    const creating = c.call('vms.create', { name: 'cut-short', importDisk: raw, memory: '32M', cpus: 1 }).catch((e: unknown) => e);
    // Killed once its staging folder exists, i.e. with the import under way.
    const vmsDir = join(h, 'vms');
    while (!(existsSync(vmsDir) && readdirSync(vmsDir).some((n) => n.startsWith('.creating-')))) await new Promise((r) => setTimeout(r, 5));
    await owner.stop('SIGKILL');
    expect(await creating).toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/went away during vms\.create: its outcome is unknown/) });
    const next = await createEngine({ home: h });
    try {
      expect(await next.client.call('vms.list', {})).toEqual([]);
      expect(leftovers(h)).toEqual([]);
    } finally {
      await next.dispose();
    }
  });

  describe(`three vms.create with one name at once: exactly one succeeds, two ALREADY_EXISTS (${ROUNDS} rounds each)`, () => {
    const names = (i: number) => [`dup-${i}`, `DUP-${i}`, `Dup-${i}`]; // names are unique case-insensitively

    async function checkRounds(h: string, list: () => Promise<VmSummary[]>, fire: (i: number) => Promise<Reply[]>) {
      for (let i = 0; i < ROUNDS; i++) {
        const replies = await fire(i);
        const wins = replies.filter((r) => r.ok);
        expect(wins.length, JSON.stringify(replies)).toBe(1);
        expect(codes(replies)).toEqual(['ALREADY_EXISTS', 'ALREADY_EXISTS']);
      }
      const all = await list();
      for (let i = 0; i < ROUNDS; i++) expect(all.filter((v) => v.name.toLowerCase() === `dup-${i}`)).toHaveLength(1);
      expect(all).toHaveLength(ROUNDS);
      expect(leftovers(h)).toEqual([]);
    }

    it('on one socket', async () => {
      const h = home();
      await Worker.start('own', h);
      const c = await clientOf(h);
      await checkRounds(h, () => c.call('vms.list', {}), (i) =>
        Promise.all(names(i).map((name, k) => c.dispatch('vms.create', { name, ...VM }).then((o) => (o.ok ? { n: k, ok: true as const, result: o.result } : { n: k, ok: false as const, error: o.error })))),
      );
    });

    it('from three processes, the app or a serve owning the library', async () => {
      const h = home();
      await Worker.start('own', h);
      const racers = await Promise.all([0, 1, 2].map(() => Worker.start('race', h)));
      const c = await clientOf(h);
      await checkRounds(h, () => c.call('vms.list', {}), (i) => Promise.all(names(i).map((name, k) => racers[k]!.call('vms.create', { name, ...VM }))));
    });

    it('from three processes and no owner: they race for the library itself', async () => {
      const h = home();
      const racers = await Promise.all([0, 1, 2].map(() => Worker.start('race', h)));
      await checkRounds(
        h,
        async () => {
          const r = await racers[0]!.call('vms.list', {});
          return r.ok ? (r.result as VmSummary[]) : [];
        },
        (i) => Promise.all(names(i).map((name, k) => racers[k]!.call('vms.create', { name, ...VM }))),
      );
    });
  });

  describe(`two starts of one VM: one QEMU (${ROUNDS} rounds each)`, () => {
    async function startRounds(h: string, racers: Worker[], id: string) {
      for (let i = 0; i < ROUNDS; i++) {
        const replies = await Promise.all(racers.map((r) => r.call('vms.start', { vm: id })));
        const pids = qemuPidsFor([id]);
        expect(replies.filter((r) => r.ok).length, JSON.stringify(replies)).toBe(1);
        // The loser is told the VM is already starting or running, never an untyped failure.
        expect(codes(replies), JSON.stringify(replies)).toEqual([expect.stringMatching(/^(INVALID_STATE|BUSY)$/)]);
        expect(pids).toHaveLength(1);
        const stop = await racers[i % racers.length]!.call('vms.stop', { vm: id, force: true });
        expect(stop, JSON.stringify(stop)).toMatchObject({ ok: true, result: { state: 'stopped' } });
        expect(qemuPidsFor([id])).toEqual([]);
        expect(leftovers(h)).toEqual([]);
      }
    }

    it('from two processes, one owner running', async () => {
      const h = home();
      await Worker.start('own', h);
      const c = await clientOf(h);
      const vm = (await c.call('vms.create', { name: 'once', ...VM })) as VmDetails;
      started.push(vm.id);
      const racers = await Promise.all([0, 1].map(() => Worker.start('race', h)));
      await startRounds(h, racers, vm.id);
    });

    it('from two processes and no owner: two would-be engines', async () => {
      const h = home();
      const racers = await Promise.all([0, 1].map(() => Worker.start('race', h)));
      const made = await racers[0]!.call('vms.create', { name: 'once', ...VM });
      expect(made.ok, JSON.stringify(made)).toBe(true);
      const id = (made as { result: VmDetails }).result.id;
      started.push(id);
      await startRounds(h, racers, id);
    });
  });

  it(`snapshots.save racing vms.delete (${ROUNDS} rounds): the VM is gone, never a ghost entry`, async () => {
    const h = home();
    await Worker.start('own', h);
    const c = await clientOf(h);
    const [saver, deleter] = await Promise.all([0, 1].map(() => Worker.start('race', h)));
    for (let i = 0; i < ROUNDS; i++) {
      const vm = (await c.call('vms.create', { name: `doomed-${i}`, ...VM })) as VmDetails;
      const [saved, deleted] = await Promise.all([saver!.call('snapshots.save', { vm: vm.id, name: 'last' }), deleter!.call('vms.delete', { vm: vm.id })]);
      expect(deleted, JSON.stringify(deleted)).toMatchObject({ ok: true });
      // A save that lost the race says so, typed; one that won ran before the delete.
      if (!saved.ok) expect(saved.error.code, JSON.stringify(saved)).toMatch(/^(NOT_FOUND|BUSY|INVALID_STATE)$/);
      expect(existsSync(join(h, 'vms', vm.id)), `round ${i}: folder of the deleted VM`).toBe(false);
      const list = await c.call('vms.list', {});
      expect(list.filter((v) => v.id === vm.id)).toEqual([]);
      expect(list.filter((v) => v.broken)).toEqual([]);
      expect(leftovers(h)).toEqual([]);
    }
  });
});

describe('the CLI while the app or a serve owns the library', () => {
  it('every command goes to the owner; `vireo console` attaches as a client', async () => {
    const h = home();
    const owner = await Worker.start('own', h);
    const made = await runCli(h, 'create', 'consoled', '--memory', '32M', '--cpus', '1', '--disk', '16M', '--json');
    expect(made.code, made.stderr).toBe(0);
    const vm = JSON.parse(made.stdout) as VmDetails;
    started.push(vm.id);
    const c = await clientOf(h);
    // The owner has the VM: the CLI did not make it behind the owner's back.
    expect((await c.call('vms.list', {})).map((v) => v.name)).toEqual(['consoled']);
    expect((await runCli(h, 'start', 'consoled')).code).toBe(0);
    expect(qemuPidsFor([vm.id])).toHaveLength(1);
    const attached = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(tsx, [cliMain, '--home', h, 'console', 'consoled'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('Connected to the serial console')) p.stdin.write(Buffer.from([0x1d])); // Ctrl+]
      });
      p.once('close', (code) => resolve({ code, stderr }));
    });
    expect(attached.code, attached.stderr).toBe(0);
    expect((await runCli(h, 'stop', 'consoled', '--force')).code).toBe(0);
    expect(qemuPidsFor([vm.id])).toEqual([]);
    expect(owner.proc.exitCode).toBeNull();
  });

  it('`vireo serve` fronts the owner: the API with its confinement, and screens through its own port', async () => {
    const h = home();
    const owner = await Worker.start('own', h);
    const serve = spawn(process.execPath, ['--import', 'tsx', cliMain, '--home', h, 'serve', '--port', '0', '--token', 'tok'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    workers.add(serve);
    let out = '';
    let err = '';
    serve.stdout.on('data', (d) => (out += d));
    serve.stderr.on('data', (d) => (err += d));
    const serveExit = new Promise<number | null>((r) => serve.once('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!/serving at http:\/\/127\.0\.0\.1:(\d+)/.test(out) && Date.now() < deadline && serve.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const port = Number(/serving at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    expect(port, err).toBeGreaterThan(0);
    expect(err).toContain(`(pid ${owner.pid}) owns this VM library`);
    const origin = `http://127.0.0.1:${port}`;
    const headers = { Cookie: 'vireo_token=tok', Origin: origin };
    const api = new WebSocket(`ws://127.0.0.1:${port}/api`, { headers });
    await new Promise((r, j) => api.once('open', r).once('error', j));
    let seq = 0;
    const rpc = (method: string, args: unknown) =>
      new Promise<{ result?: unknown; error?: WireError }>((resolve) => {
        const id = ++seq;
        const on = (d: Buffer) => {
          const m = JSON.parse(String(d)) as { id?: number; result?: unknown; error?: WireError };
          if (m.id !== id) return;
          api.off('message', on);
          resolve(m);
        };
        api.on('message', on);
        api.send(JSON.stringify({ id, method, args }));
      });

    const made = await rpc('vms.create', { name: 'fronted', ...VM });
    expect(made.error).toBeUndefined();
    const vm = made.result as VmDetails;
    started.push(vm.id);
    // The owner made it: there is one engine on the library.
    const c = await clientOf(h);
    expect((await c.call('vms.list', {})).map((v) => v.name)).toEqual(['fronted']);
    // A browser client is still a web caller at the owner.
    expect((await rpc('files.list', { dir: '/' })).error).toMatchObject({ code: 'UNAUTHORIZED' });

    expect((await rpc('vms.start', { vm: vm.id })).error).toBeUndefined();
    const session = (await rpc('display.open', { vm: vm.id })).result as { url: string };
    expect(session.url.startsWith(`ws://127.0.0.1:${port}/display/`)).toBe(true);
    const screen = new WebSocket(session.url, { headers });
    const banner = await new Promise<string>((resolve, reject) => {
      screen.once('message', (d: Buffer) => resolve(d.subarray(0, 3).toString()));
      screen.once('error', reject);
    });
    expect(banner).toBe('RFB');
    screen.close();
    const serial = (await rpc('console.open', { vm: vm.id })).result as { url: string };
    expect(serial.url.startsWith(`ws://127.0.0.1:${port}/console/`)).toBe(true);
    const consoleWs = new WebSocket(serial.url, { headers });
    await new Promise((r, j) => consoleWs.once('open', r).once('error', j));
    consoleWs.close();
    expect((await rpc('vms.stop', { vm: vm.id, force: true })).result).toMatchObject({ state: 'stopped' });
    expect(qemuPidsFor([vm.id])).toEqual([]);
    api.close();

    // Without its owner the server has nothing to serve: it says so and leaves.
    await owner.stop('SIGTERM');
    expect(await serveExit).toBe(1);
    expect(err).toMatch(/owner went away/);
  });
});

describe('a one-shot CLI owner', () => {
  it('`vireo serve` waits for a CLI command that holds the library (an attached console), then owns it', async () => {
    const h = home();
    expect((await runCli(h, 'create', 'held', '--memory', '32M', '--cpus', '1', '--disk', '16M')).code).toBe(0);
    expect((await runCli(h, 'start', 'held')).code).toBe(0);
    const id = (JSON.parse((await runCli(h, 'show', 'held', '--json')).stdout) as VmDetails).id;
    started.push(id);
    // With nobody else on the library, the console command owns it while it is attached.
    const consoleCli = spawn(process.execPath, ['--import', 'tsx', cliMain, '--home', h, 'console', 'held'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    workers.add(consoleCli);
    await new Promise<void>((r) => consoleCli.stderr.on('data', (d) => String(d).includes('Connected') && r()));
    const serve = spawn(process.execPath, ['--import', 'tsx', cliMain, '--home', h, 'serve', '--port', '0', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    workers.add(serve);
    let served = '';
    serve.stdout.on('data', (d) => (served += d));
    let serveErr = '';
    serve.stderr.on('data', (d) => (serveErr += d));
    await new Promise((r) => setTimeout(r, 3000));
    expect(served, serveErr).toBe(''); // still waiting, not refused
    expect(serve.exitCode).toBeNull();
    consoleCli.stdin.write(Buffer.from([0x1d]));
    const deadline = Date.now() + 60_000;
    while (!served.includes('serving at') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(served, serveErr).toContain('Vireo is serving at');
    // serve owns it now: the CLI is its client.
    const stop = await runCli(h, 'stop', 'held', '--force');
    expect(stop.code, stop.stderr).toBe(0);
    expect(qemuPidsFor([id])).toEqual([]);
    serve.kill('SIGTERM');
  });
});

const runCli = (h: string, ...args: string[]) => runVireo(h, args);
