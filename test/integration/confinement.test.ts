import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { WebSocket } from 'ws';
import type { Engine } from '../../electron/engine/index.ts';
import { startServer, type RunningServer } from '../../electron/server/server.ts';
import { webCaller } from '../../electron/engine/policy/confine.ts';
import { ensureFixtures } from '../fixtures/guest.ts';
import { disposeEngine, tempEngine } from './helpers.ts';

// Issue 13, acceptance 6: a client of `vireo serve` is confined to the library and the media
// folders the owner configured. Each escape the adversarial probe found is tried here over the
// real transport (startServer + a WebSocket on 127.0.0.1, real qemu-img) and must be refused;
// the same calls over the local transport still work.

let engine: Engine;
let server: RunningServer;
let extraArgsServer: RunningServer;
let media: string;
let outside: string;
let ws: WebSocket;
let nextId = 1;
const TOKEN = 'confine-token-0123456789abcdef';

const img = (...args: string[]) => {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')}: ${r.stderr}`);
};

function open(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(`ws://127.0.0.1:${port}/api?token=${TOKEN}`);
    s.once('open', () => resolve(s));
    s.once('error', reject);
  });
}

type Reply = { id: number; result?: unknown; error?: { code: string; message: string; details?: Record<string, unknown> } };

function rpc(method: string, args: unknown, sock: WebSocket = ws): Promise<Reply> {
  const id = nextId++;
  return new Promise((resolve) => {
    const on = (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Reply;
      if (m.id === id) {
        sock.off('message', on);
        resolve(m);
      }
    };
    sock.on('message', on);
    sock.send(JSON.stringify({ id, method, args }));
  });
}

async function refused(method: string, args: unknown, message: RegExp) {
  const r = await rpc(method, args);
  expect(r.error, `${method} ${JSON.stringify(args)} should be refused`).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(message) });
  return r.error!;
}

let vmId: string;
let vmDir: string;

beforeAll(async () => {
  engine = await tempEngine();
  media = mkdtempSync(join(tmpdir(), 'vireo-media-'));
  outside = mkdtempSync(join(tmpdir(), 'vireo-outside-'));
  server = await startServer({ engine, port: 0, token: TOKEN, staticDir: join(tmpdir(), 'no-renderer'), caller: webCaller({ media: [media] }) });
  extraArgsServer = await startServer({ engine, port: 0, token: TOKEN, staticDir: join(tmpdir(), 'no-renderer'), caller: webCaller({ media: [media], allowExtraArgs: true }) });
  ws = await open(server.port);
  // A VM made locally (no OS needed: nothing here boots).
  const vm = await engine.client.call('vms.create', { name: 'target', disk: '16M', memory: '64M', cpus: 1 });
  vmId = vm.id;
  vmDir = vm.dir;

  writeFileSync(join(media, 'notes.txt'), 'a text file that is not a disk\n'.repeat(100));
  writeFileSync(join(outside, 'secret.txt'), 'host secret\n');
  img('create', '-q', '-f', 'qcow2', join(media, 'inside.qcow2'), '16M');
  img('create', '-q', '-f', 'qcow2', join(outside, 'outside.qcow2'), '16M');
  // Inside the root by name, outside by what it opens: a backing file, and a link.
  img('create', '-q', '-f', 'qcow2', '-b', join(outside, 'outside.qcow2'), '-F', 'qcow2', join(media, 'overlay.qcow2'));
  // An external data file outside, and a VMDK descriptor whose extent is a host file.
  img('create', '-q', '-f', 'qcow2', '-o', `data_file=${join(outside, 'data.raw')}`, join(media, 'datafile.qcow2'), '16M');
  writeFileSync(join(media, 'desc.vmdk'), '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2 FLAT "/etc/hostname" 0\n');
  // Inside the root but not disks: a "secret" in the home folder behind a backing file or a data file.
  writeFileSync(join(media, 'id_rsa'), 'PRIVATE KEY\n'.repeat(64));
  img('create', '-q', '-f', 'qcow2', '-b', join(media, 'id_rsa'), '-F', 'raw', join(media, 'over-secret.qcow2'));
  img('create', '-q', '-f', 'qcow2', '-o', `data_file=${join(media, 'id_rsa')}`, join(media, 'data-secret.qcow2'), '16M');
  symlinkSync('/etc/shadow', join(media, 'shadow.img'));
  symlinkSync(join(outside, 'outside.qcow2'), join(media, 'link.qcow2'));
  mkdirSync(join(media, 'isos'));
  copyFileSync((await ensureFixtures()).iso, join(outside, 'install.iso'));
  copyFileSync((await ensureFixtures()).iso, join(media, 'isos', 'install.iso'));
});

afterAll(async () => {
  ws?.close();
  await server?.close();
  await extraArgsServer?.close();
  await disposeEngine(engine);
});

describe('vireo serve confines its clients (web transport)', () => {
  it('vms.update: extra QEMU arguments (-chardev file,path=<host file>) are refused, nothing saved', async () => {
    const before = readFileSync(join(vmDir, 'vm.json'), 'utf8');
    const target = join(outside, 'written-by-guest');
    await refused('vms.update', { vm: vmId, patch: { advanced: { extraArgs: ['-chardev', `file,path=${target},id=c0`] } } }, /extraArgs.*--allow-extra-args/);
    expect(readFileSync(join(vmDir, 'vm.json'), 'utf8')).toBe(before);
    // Sending the unchanged value back (a settings page saving everything) is not a change.
    const same = await rpc('vms.update', { vm: vmId, patch: { advanced: { extraArgs: [] }, notes: 'edited from the web' } });
    expect(same.error).toBeUndefined();
  });

  it('vms.update: extra arguments are allowed when serve was started with --allow-extra-args', async () => {
    const sock = await open(extraArgsServer.port);
    try {
      const r = await rpc('vms.update', { vm: vmId, patch: { advanced: { extraArgs: ['-no-shutdown'] } } }, sock);
      expect(r.error).toBeUndefined();
      expect((r.result as { config: { advanced: { extraArgs: string[] } } }).config.advanced.extraArgs).toEqual(['-no-shutdown']);
      expect((await rpc('vms.update', { vm: vmId, patch: { advanced: { extraArgs: [] } } }, sock)).error).toBeUndefined();
    } finally {
      sock.close();
    }
  });

  it('vms.update: a disk path that leaves the VM folder or the roots, or is no disk image, is refused', async () => {
    const disk0 = (file: string, format = 'qcow2') => ({ vm: vmId, patch: { disks: [{ id: 'disk0', file, format }] } });
    await refused('vms.update', disk0('../../../x'), /leaves the VM's folder/);
    await refused('vms.update', disk0(join(outside, 'outside.qcow2')), /outside the folders this server may use/);
    await refused('vms.update', disk0(join(media, 'notes.txt'), 'raw'), /not treated as a raw disk/);
    await refused('vms.update', disk0('vm.json', 'raw'), /not treated as a raw disk/); // the guest would write our config
    await refused('vms.update', disk0(join(media, 'overlay.qcow2')), /refers to.*outside the folders/);
    await refused('vms.update', disk0(join(media, 'link.qcow2')), /really .*outside\.qcow2/);
    await refused('vms.update', disk0(join(media, 'datafile.qcow2')), /data\.raw.*outside the folders/);
    await refused('vms.update', disk0(join(media, 'desc.vmdk'), 'vmdk'), /VMDK descriptor/);
    await refused('vms.update', disk0(join(media, 'over-secret.qcow2')), /id_rsa \(the backing file of .*\) has no disk-image format/);
    await refused('vms.update', disk0(join(media, 'data-secret.qcow2')), /id_rsa \(a file .* refers to\) has no disk-image format/);
    await refused('vms.create', { name: 'via-vmdk', importDisk: join(media, 'desc.vmdk') }, /VMDK descriptor/);
    const d = await engine.client.call('vms.get', { vm: vmId });
    expect(d.config!.disks[0]!.file).toBe('disk0.qcow2');
    // A disk image inside a root is fine.
    const ok = await rpc('vms.update', { vm: vmId, patch: { disks: [{ id: 'disk0', file: 'disk0.qcow2' }, { id: 'disk1', file: join(media, 'inside.qcow2'), format: 'qcow2' }] } });
    expect(ok.error).toBeUndefined();
    expect((await rpc('vms.update', { vm: vmId, patch: { disks: [{ id: 'disk0', file: 'disk0.qcow2' }] } })).error).toBeUndefined();
  });

  it('disks.resize {shrink} of a text file is refused and the file is untouched', async () => {
    const file = join(media, 'notes.txt');
    const size = statSync(file).size;
    await refused('disks.resize', { path: file, size: 512, shrink: true }, /not treated as a raw disk/);
    expect(statSync(file).size).toBe(size);
    await refused('disks.resize', { path: join(outside, 'secret.txt'), size: 512, shrink: true }, /outside the folders/);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('host secret\n');
  });

  it('disks.info /etc/shadow, through a link or directly, and paths with .. are refused', async () => {
    await refused('disks.info', { path: '/etc/shadow' }, /outside the folders/);
    // The same answer for a host file that does not exist: no probing which ones do.
    await refused('disks.info', { path: '/etc/no-such-file.qcow2' }, /outside the folders/);
    await refused('os.detect', { path: join(outside, 'missing.iso') }, /outside the folders/);
    await refused('disks.info', { path: join(media, 'shadow.img') }, /really \/etc\/shadow/);
    await refused('disks.info', { path: `${media}/../${outside.split('/').pop()}/outside.qcow2` }, /contains "\.\."/);
    await refused('disks.info', { path: 'relative.qcow2' }, /not an absolute path/);
    const ok = await rpc('disks.info', { path: join(media, 'inside.qcow2') });
    expect(ok.result).toMatchObject({ format: 'qcow2', virtualSize: 16 * 1024 ** 2 });
  });

  it('disks.create and disks.convert write only inside the roots, under a disk-image name', async () => {
    await refused('disks.create', { path: join(outside, 'new.qcow2'), size: '16M' }, /outside the folders/);
    await refused('disks.create', { path: join(media, '.bashrc'), size: '1M', format: 'raw' }, /must end in \.img or \.raw/);
    await refused('disks.convert', { path: join(media, 'inside.qcow2'), output: join(outside, 'copy.qcow2') }, /outside the folders/);
    expect(existsSync(join(outside, 'new.qcow2'))).toBe(false);
    expect(existsSync(join(outside, 'copy.qcow2'))).toBe(false);
    const made = await rpc('disks.create', { path: join(media, 'made.qcow2'), size: '16M' });
    expect(made.result).toMatchObject({ format: 'qcow2' });
    const converted = await rpc('disks.convert', { path: join(media, 'inside.qcow2'), output: join(media, 'converted.qcow2') });
    expect(converted.result).toMatchObject({ format: 'qcow2', virtualSize: 16 * 1024 ** 2 });
  });

  it('vms.create {importDisk} of a file outside the roots (or no disk image) is refused, no VM left', async () => {
    const before = readdirSync(join(engine.home, 'vms'));
    await refused('vms.create', { name: 'imported', importDisk: join(outside, 'outside.qcow2') }, /importDisk.*outside the folders/);
    await refused('vms.create', { name: 'imported', importDisk: join(media, 'shadow.img') }, /really \/etc\/shadow/);
    await refused('vms.create', { name: 'imported', importDisk: join(media, 'notes.txt') }, /not treated as a raw disk/);
    await refused('vms.create', { name: 'from-iso', iso: join(outside, 'install.iso') }, /iso.*outside the folders/);
    expect(readdirSync(join(engine.home, 'vms'))).toEqual(before);
  });

  it('files.list / is refused; with no folder it lists the roots, and Up stops at a root', async () => {
    await refused('files.list', { dir: '/' }, /outside the folders/);
    await refused('files.list', { dir: outside }, /outside the folders/);
    const roots = await rpc('files.list', {});
    const names = (roots.result as { entries: Array<{ path: string }> }).entries.map((e) => e.path);
    expect(names).toEqual([engine.home, media]);
    const top = (await rpc('files.list', { dir: media })).result as { parent: string | null; entries: Array<{ name: string }> };
    expect(top.parent).toBeNull();
    expect(top.entries.map((e) => e.name)).toContain('inside.qcow2');
    // Links that lead outside are not shown (their target's size would leak); the real files are.
    expect(top.entries.map((e) => e.name)).not.toContain('shadow.img');
    expect(top.entries.map((e) => e.name)).not.toContain('link.qcow2');
    const sub = (await rpc('files.list', { dir: join(media, 'isos') })).result as { parent: string | null };
    expect(sub.parent).toBe(media);
  });

  it('os.detect and vms.changeMedia outside the roots are refused; inside they work', async () => {
    await refused('os.detect', { path: join(outside, 'install.iso') }, /outside the folders/);
    await refused('os.detect', { path: '/etc/passwd' }, /outside the folders/);
    await refused('vms.changeMedia', { vm: vmId, iso: join(outside, 'install.iso') }, /outside the folders/);
    await refused('vms.update', { vm: vmId, patch: { cdrom: { iso: join(outside, 'install.iso') } } }, /cdrom\.iso.*outside the folders/);
    const detected = await rpc('os.detect', { path: join(media, 'isos', 'install.iso') });
    expect(detected.error).toBeUndefined();
    const changed = await rpc('vms.changeMedia', { vm: vmId, iso: join(media, 'isos', 'install.iso') });
    expect((changed.result as { config: { cdrom: { iso: string } } }).config.cdrom.iso).toBe(join(media, 'isos', 'install.iso'));
  });
});

describe('the default confinement', () => {
  it('is the user\'s home folder (plus the library) and no extra arguments', () => {
    expect(webCaller()).toEqual({ kind: 'web', roots: [homedir()], allowExtraArgs: false });
    expect(Object.isFrozen(webCaller().roots)).toBe(true);
  });
});

describe('the local transport (desktop, CLI) keeps the account\'s reach', () => {
  it('reads disks and ISOs anywhere and sets extra arguments', async () => {
    expect(await engine.client.call('disks.info', { path: join(outside, 'outside.qcow2') })).toMatchObject({ format: 'qcow2' });
    expect((await engine.client.call('os.detect', { path: join(outside, 'install.iso') })).status).toBeDefined();
    const d = await engine.client.call('vms.update', { vm: vmId, patch: { advanced: { extraArgs: ['-no-shutdown'] } } });
    expect(d.config!.advanced.extraArgs).toEqual(['-no-shutdown']);
    const listing = await engine.client.call('files.list', { dir: outside });
    expect(listing.entries.map((e) => e.name)).toContain('secret.txt');
  });
});

describe('vireo serve --media / --allow-extra-args (the real CLI process)', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
  const MAIN = join(ROOT, 'electron', 'cli', 'main.ts');

  function serve(args: string[]) {
    const home = mkdtempSync(join(tmpdir(), 'vireo-serve-confine-'));
    const child = spawn(TSX, [MAIN, '--home', home, 'serve', '--port', '0', '--token', TOKEN, ...args], { cwd: ROOT, shell: false, env: { ...process.env, VIREO_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Vireo is serving at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('close', (code) => reject(Object.assign(new Error(`serve exited ${code}: ${stderr}`), { code, stderr })));
    });
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    };
    return { ready, stop, home };
  }

  it('serves with the given media folders as the roots, and refuses extra args without the flag', async () => {
    const s = serve(['--media', media, '--media', outside]);
    try {
      const sock = await open(await s.ready);
      try {
        const roots = (await rpc('files.list', {}, sock)).result as { entries: Array<{ path: string }> };
        expect(roots.entries.map((e) => e.path)).toEqual([s.home, media, outside]);
        expect((await rpc('disks.info', { path: join(outside, 'outside.qcow2') }, sock)).result).toMatchObject({ format: 'qcow2' });
        expect((await rpc('disks.info', { path: '/etc/shadow' }, sock)).error).toMatchObject({ code: 'UNAUTHORIZED' });
        const vm = (await rpc('vms.create', { name: 'cli-vm', memory: '64M', cpus: 1 }, sock)).result as { id: string };
        expect((await rpc('vms.update', { vm: vm.id, patch: { advanced: { extraArgs: ['-no-shutdown'] } } }, sock)).error).toMatchObject({ code: 'UNAUTHORIZED' });
      } finally {
        sock.close();
      }
    } finally {
      await s.stop();
    }
  }, 60_000);

  it('--allow-extra-args lets clients set extra arguments; a --media folder that does not exist is a usage error', async () => {
    const s = serve(['--allow-extra-args']);
    try {
      const sock = await open(await s.ready);
      try {
        const vm = (await rpc('vms.create', { name: 'cli-vm', memory: '64M', cpus: 1 }, sock)).result as { id: string };
        expect((await rpc('vms.update', { vm: vm.id, patch: { advanced: { extraArgs: ['-no-shutdown'] } } }, sock)).error).toBeUndefined();
      } finally {
        sock.close();
      }
    } finally {
      await s.stop();
    }
    const bad = serve(['--media', join(outside, 'no-such-folder')]);
    await expect(bad.ready).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/no-such-folder is not a folder/) });
  }, 60_000);
});
