import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { connect, createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { runtimeRoot, vmPaths } from '../../electron/engine/paths.ts';
import { killQemuWhenImageGrows, qemuPidsFor, waitForState } from './helpers.ts';

// kill -9 of the engine in the middle of long work, and of QEMU while it runs and while it
// saves. The engine here is a real separate process (the CLI owning the library for one
// command). After every kill a fresh engine must load the library, every image must check
// clean, nothing half-made may be left (.creating-*, .partial, .tmp, sockets of stopped VMs,
// qemu or swtpm without a running VM), and VMs that were running must be re-attached and
// running. Guests need no OS: QEMU sits in its firmware; a loader device puts random data in
// RAM where a snapshot needs something to save.

const MiB = 1024 ** 2;
const home = mkdtempSync(join(tmpdir(), 'vireo-kill9-'));
const work = mkdtempSync(join(tmpdir(), 'vireo-kill9-src-'));
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let engine: Engine | undefined;
/** VMs that must be running (re-attached, same QEMU) after every kill. */
const mustRun = new Map<string, number>();

/**
 * The CLI as ONE process: node with tsx as a loader. The tsx binary runs the script in a
 * child node process, so killing it would leave the real engine running.
 */
function cli(args: string[]): ChildProcess {
  const c = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', '--home', home, ...args], { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
  children.push(c);
  return c;
}

/**
 * Runs a CLI command and SIGKILLs it once `midway()` holds (the work is visibly under way).
 * Resolves true when it was killed mid-way, false when the command ended first.
 */
async function killMidway(args: string[], midway: () => boolean, timeoutMs = 120_000): Promise<boolean> {
  const c = cli(args);
  let stderr = '';
  c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  const deadline = Date.now() + timeoutMs;
  while (c.exitCode === null && c.signalCode === null && Date.now() < deadline) {
    if (midway()) {
      c.kill('SIGKILL');
      await exited;
      return true;
    }
    await sleep(5);
  }
  if (c.exitCode === null) c.kill('SIGKILL');
  await exited;
  if (c.exitCode !== 0 && c.signalCode === null) throw new Error(`vireo ${args.join(' ')} failed before it could be killed: ${stderr}`);
  return false;
}

/** Every file and folder under `dir`, as paths. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out.push(p);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...walk(p));
  }
  return out;
}

const LEFTOVER = /(^|\/)\.(creating|deleting)-|\.partial$|\.tmp$/;
const findLeftovers = (dir: string) => walk(dir).filter((p) => LEFTOVER.test(p.slice(dir.length)));

/** Processes whose argv mentions `needle` (swtpm is started with the VM's runtime folder). */
function processesWith(needle: string, binary: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) === 'Z') continue;
      if (argv[0]?.includes(binary) && argv.some((a) => a.includes(needle))) pids.push(Number(d));
    } catch {
      /* exited while we looked */
    }
  }
  return pids;
}

async function checkImage(file: string, inUse: boolean) {
  const r = await run('qemu-img', ['check', '--output=json', '-f', 'qcow2', ...(inUse ? ['-U'] : []), file], { okCodes: [0, 1, 2, 3] });
  const j = JSON.parse(r.stdout) as { 'check-errors': number; corruptions?: number; leaks?: number };
  // A running QEMU may hold metadata not yet flushed: only corruption counts for its images.
  const seen = { file, errors: j['check-errors'], corruptions: j.corruptions ?? 0, leaks: inUse ? 0 : (j.leaks ?? 0) };
  expect(seen).toEqual({ file, errors: 0, corruptions: 0, leaks: 0 });
}

/** A fresh engine on the library, and everything the suite promises about it. */
async function reopenAndCheck(): Promise<Engine> {
  await engine?.dispose();
  engine = await createEngine({ home });
  const e = engine;
  const list = await e.client.call('vms.list', {});
  expect(list.filter((v) => v.broken).map((v) => [v.name, v.broken])).toEqual([]);
  expect(findLeftovers(home)).toEqual([]);
  for (const [id, pid] of mustRun) {
    const v = await e.client.call('vms.get', { vm: id });
    expect({ name: v.name, state: v.state, pid: v.runtime.pid }).toEqual({ name: v.name, state: 'running', pid });
  }
  for (const v of list) {
    const entry = e.vms.resolve(v.id);
    const active = !['stopped', 'crashed'].includes(v.state);
    const images = readdirSync(entry.paths.dir).filter((f) => f.endsWith('.qcow2'));
    for (const f of images) await checkImage(join(entry.paths.dir, f), active);
    // A stopped VM has no runtime folder (sockets, pidfile), no QEMU and no swtpm.
    if (!active) {
      expect({ vm: v.name, runtime: existsSync(entry.paths.runtime) }).toEqual({ vm: v.name, runtime: false });
      expect({ vm: v.name, qemu: qemuPidsFor([v.id]) }).toEqual({ vm: v.name, qemu: [] });
      expect({ vm: v.name, swtpm: processesWith(entry.paths.runtime, 'swtpm') }).toEqual({ vm: v.name, swtpm: [] });
    } else {
      expect(qemuPidsFor([v.id])).toHaveLength(1);
    }
  }
  // No runtime folder (sockets, pidfile) without a running VM behind it.
  const rtRoot = dirname(vmPaths(home, list[0]!.id).runtime);
  const activeRt = list.filter((v) => !['stopped', 'crashed'].includes(v.state)).map((v) => basename(vmPaths(home, v.id).runtime));
  const rtDirs = readdirSync(rtRoot, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  expect(rtDirs.sort()).toEqual(activeRt.sort());
  // Sockets beside them (the owner's) are live ones, not left by a killed engine.
  for (const f of readdirSync(rtRoot, { withFileTypes: true }).filter((d) => d.isSocket())) {
    const path = join(rtRoot, f.name);
    const alive = await new Promise<boolean>((resolve) => {
      const sock = connect(path, () => (sock.end(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    expect({ socket: path, alive }).toEqual({ socket: path, alive: true });
  }
  expect((await e.client.call('jobs.list', {})).filter((j) => j.state === 'running')).toEqual([]);
  return e;
}

/** Hands the library to the next CLI process: no engine in this process while it runs. */
async function release() {
  await engine?.dispose();
  engine = undefined;
}

let rawSource = '';
let ramFile = '';
let runner: VmDetails;
let data: VmDetails;

beforeAll(async () => {
  // 48 MiB of random data: converting it takes long enough to be caught mid-way.
  rawSource = join(work, 'source.raw');
  const fd = openSync(rawSource, 'w');
  for (let i = 0; i < 48; i++) writeSync(fd, randomBytes(MiB));
  closeSync(fd);
  ramFile = join(work, 'ram.bin');
  writeFileSync(ramFile, randomBytes(96 * MiB));

  engine = await createEngine({ home });
  const e = engine;
  // A bystander that runs through every kill, and a VM with data on its disk to clone.
  const idle = await e.client.call('vms.create', { name: 'idle', memory: '32M', disk: '16M', cpus: 1 });
  const started = await e.client.call('vms.start', { vm: idle.id });
  mustRun.set(idle.id, started.runtime.pid!);
  data = await e.client.call('vms.create', { name: 'data', memory: '32M', importDisk: rawSource, cpus: 1 });
  // The runner: 128 MiB RAM of which 96 MiB random (a live snapshot has something to write), a TPM.
  runner = await e.client.call('vms.create', { name: 'runner', memory: '128M', disk: '16M', cpus: 1, tpm: true });
  await e.client.call('vms.update', { vm: runner.id, patch: { advanced: { extraArgs: ['-device', `loader,file=${ramFile},addr=0x1000000,force-raw=on`] } } });
  await e.client.call('vms.start', { vm: runner.id });
  await release();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await engine?.dispose().catch(() => {});
  const e = await createEngine({ home }).catch(() => null);
  if (e) {
    for (const v of e.vms.list()) if (!['stopped', 'crashed'].includes(v.state)) await e.client.call('vms.stop', { vm: v.id, force: true }).catch(() => {});
    await e.dispose();
  }
  await rm(home, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
  await rm(runtimeRoot(home), { recursive: true, force: true });
});

const vmsDir = () => join(home, 'vms');
const staging = () => readdirSync(vmsDir()).filter((n) => n.startsWith('.creating-')).map((n) => join(vmsDir(), n));
const partialIn = (dirs: string[], minBytes: number) =>
  dirs.some((d) => readdirSync(d, { withFileTypes: true }).some((f) => f.name.endsWith('.partial') && (statSync(join(d, f.name), { throwIfNoEntry: false })?.size ?? 0) >= minBytes));

describe('kill -9', () => {
  it('of the engine while it creates a VM: no half VM, the library loads', async () => {
    let killed = false;
    for (let i = 0; i < 5 && !killed; i++) {
      // UEFI: the variable store is copied after the disk, which keeps the staging folder around longer.
      killed = await killMidway(['create', `made-${i}`, '--memory', '32M', '--disk', '32M', '--firmware', 'uefi'], () => staging().length > 0);
    }
    expect(killed).toBe(true);
    const e = await reopenAndCheck();
    expect(e.vms.list().filter((v) => v.name.startsWith('made-') && v.broken)).toEqual([]);
    expect((await e.client.call('jobs.list', {})).filter((j) => j.kind === 'create').map((j) => j.state)).toContain('interrupted');
    await release();
  });

  it('of the engine while it imports a disk: the staging folder and its partial copy go', async () => {
    const killed = await killMidway(['create', 'imported', '--memory', '32M', '--import-disk', rawSource], () => partialIn(staging(), 4 * MiB));
    expect(killed).toBe(true);
    expect(partialIn(staging(), 1)).toBe(true); // what the next engine has to clean
    const e = await reopenAndCheck();
    expect(e.vms.list().map((v) => v.name)).not.toContain('imported');
    expect((await e.client.call('jobs.list', {})).find((j) => j.kind === 'import')).toMatchObject({ state: 'interrupted' });
    await release();
  });

  it('of the engine while it converts a disk: the hidden .partial goes, the job is reported interrupted', async () => {
    const out = join(work, 'converted.qcow2');
    const killed = await killMidway(['disk', 'convert', rawSource, out], () => partialIn([work], 4 * MiB));
    expect(killed).toBe(true);
    const partial = readdirSync(work).filter((f) => f.endsWith('.partial'));
    expect(partial).toHaveLength(1);
    const e = await reopenAndCheck();
    expect(readdirSync(work).filter((f) => f.endsWith('.partial') || f === 'converted.qcow2')).toEqual([]);
    const job = (await e.client.call('jobs.list', {})).find((j) => j.kind === 'convert');
    expect(job).toMatchObject({ state: 'interrupted', error: { code: 'CANCELLED' } });
    expect(job!.error!.message).toContain(partial[0]);
    await release();
  });

  it('of the engine while it clones a VM: no half clone, the source untouched', async () => {
    const killed = await killMidway(['clone', 'data', 'data-copy'], () => partialIn(staging(), 4 * MiB));
    expect(killed).toBe(true);
    const e = await reopenAndCheck();
    expect(e.vms.list().map((v) => v.name)).not.toContain('data-copy');
    expect((await e.client.call('jobs.list', {})).find((j) => j.kind === 'clone')).toMatchObject({ state: 'interrupted', vmId: data.id });
    const d = await e.client.call('vms.get', { vm: data.id });
    expect(d.disks[0]).toMatchObject({ virtualSize: 48 * MiB });
    await release();
  });

  it('of the engine during a live snapshot: the next engine resumes the guest it left paused', async () => {
    const paths = vmPaths(home, runner.id);
    const disk = join(runner.dir, 'disk0.qcow2');
    const before = statSync(disk).size;
    // Killed once the guest is paused for the snapshot and its RAM has started to land in the image.
    const killed = await killMidway(['snapshot', 'save', 'runner', 'interrupted'], () => existsSync(paths.snapshotPause) && statSync(disk).size - before > 8 * MiB);
    expect(killed).toBe(true);
    const marker = JSON.parse(readFileSync(paths.snapshotPause, 'utf8')) as { wasRunning: boolean };
    expect(marker.wasRunning).toBe(true);

    engine = await createEngine({ home });
    const e = engine;
    // QEMU finishes the save on its own; then the new engine lets the guest go on.
    await waitForState(e, runner.id, 'running', 120_000);
    // The note goes right after the resume that made it "running".
    for (let i = 0; i < 100 && existsSync(paths.snapshotPause); i++) await sleep(50);
    expect(existsSync(paths.snapshotPause)).toBe(false);
    const v = await e.client.call('vms.get', { vm: runner.id });
    expect(v.warnings.filter((w) => /paused/.test(w))).toEqual([]);
    mustRun.set(runner.id, v.runtime.pid!);
    // The snapshot QEMU completed is kept, and the tree agrees with the image.
    const tree = await e.client.call('snapshots.list', { vm: runner.id });
    const { stdout } = await run('qemu-img', ['info', '-U', '--output=json', disk]);
    const tags = ((JSON.parse(stdout) as { snapshots?: Array<{ name: string }> }).snapshots ?? []).map((s) => s.name);
    expect(tree.nodes.map((n) => n.id).sort()).toEqual(tags.sort());
    expect((await e.client.call('jobs.list', {})).find((j) => j.kind === 'snapshot-save')).toMatchObject({ state: 'interrupted' });
    await reopenAndCheck();
  });

  it('of QEMU while it saves a live snapshot: a typed error, the images clean, no half snapshot', async () => {
    const e = engine!;
    const disk = join(runner.dir, 'disk0.qcow2');
    const treeBefore = (await e.client.call('snapshots.list', { vm: runner.id })).nodes.map((n) => n.id);
    const pid = (await e.client.call('vms.get', { vm: runner.id })).runtime.pid!;
    mustRun.delete(runner.id);
    const killed = killQemuWhenImageGrows(e, runner.id, disk, pid);
    const saving = e.client.call('snapshots.save', { vm: runner.id, name: 'doomed' });
    await killed;
    await expect(saving).rejects.toMatchObject({ code: expect.stringMatching(/QMP_DISCONNECTED|QMP_ERROR|QEMU_FAILED/) });
    await waitForState(e, runner.id, 'crashed', 15_000);
    expect((await e.client.call('snapshots.list', { vm: runner.id })).nodes.map((n) => n.id)).toEqual(treeBefore);
    // Engines disposed earlier in this process still watch the old pid (1 s poll) and clean
    // up after it; let them, before this VM gets a new run whose folder they would remove.
    await sleep(2500);
    await reopenAndCheck();
  });

  it('of QEMU while it runs: crashed, its helpers and sockets gone, and it starts again', async () => {
    const e = engine!;
    let v = await e.client.call('vms.start', { vm: runner.id });
    const entry = e.vms.resolve(runner.id);
    expect(processesWith(entry.paths.runtime, 'swtpm')).toHaveLength(1);
    process.kill(v.runtime.pid!, 'SIGKILL');
    await waitForState(e, runner.id, 'crashed', 15_000);
    v = await e.client.call('vms.get', { vm: runner.id });
    expect(v.crash?.reason).toMatch(/SIGKILL|killed|exited/);
    // swtpm follows its QEMU; give it a moment to notice the closed socket.
    for (let i = 0; i < 100 && processesWith(entry.paths.runtime, 'swtpm').length; i++) await sleep(50);
    await reopenAndCheck();
    v = await engine!.client.call('vms.start', { vm: runner.id });
    expect(v.state).toBe('running');
    await engine!.client.call('vms.stop', { vm: runner.id, force: true });
    await reopenAndCheck();
  });

  it('says why it leaves a guest paused when QEMU holds it for a reason of its own', async () => {
    let e = engine!;
    const v = await e.client.call('vms.start', { vm: runner.id });
    const paths = vmPaths(home, runner.id);
    // As a dead engine would have left it: its note, and a guest QEMU itself has stopped (its
    // state migrated out to a socket that swallows it: "postmigrate", which a resume must not hide).
    writeFileSync(paths.snapshotPause, JSON.stringify({ wasRunning: true, snapshot: 'sx', jobId: 'save-sx', at: new Date().toISOString(), pid: 1 }));
    const sink = join(work, 'sink.sock');
    const server = createServer((sock) => sock.resume()).listen(sink);
    await new Promise((r) => server.once('listening', r));
    const qmp = e.vms.machineFor(e.vms.resolve(runner.id)).monitor('migrate');
    await qmp.execute('migrate', { uri: `unix:${sink}` });
    for (let i = 0; i < 600; i++) {
      const st = await qmp.execute<{ status: string }>('query-status');
      if (st.status === 'postmigrate') break;
      await sleep(100);
    }
    server.close();
    e = await reopenAndCheck();
    let d = await e.client.call('vms.get', { vm: runner.id });
    for (let i = 0; i < 100 && !d.warnings.some((w) => /postmigrate/.test(w)); i++) {
      await sleep(50);
      d = await e.client.call('vms.get', { vm: runner.id });
    }
    expect(d.state).toBe('paused');
    expect(d.runtime.pid).toBe(v.runtime.pid);
    expect(d.warnings.find((w) => /postmigrate/.test(w))).toMatch(/left paused: it was paused for snapshot sx .*"postmigrate"/);
    await e.client.call('vms.stop', { vm: runner.id, force: true });
  });
});
