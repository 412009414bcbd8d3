import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../electron/engine/index.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { ensureFixtures, GUEST_MARKERS } from '../fixtures/guest.ts';
import { RfbClient } from '../fixtures/rfb-client.ts';
import { disposeEngine, tempEngine } from './helpers.ts';
import { libvirtMissing, readConsoleUntil, removeAllDomains, startSessionLibvirt, type SessionLibvirt } from './libvirt-helpers.ts';
import { runVireo } from './cli-helpers.ts';

// Issue 24, acceptance 1: a second libvirt daemon, started by this test in session mode with
// its own sockets and dirs, added as a host; its domains listed with state; a VM created on it
// from the wizard's answers (domain XML, a volume in its pool, the ISO uploaded through the
// connection) boots the test guest; its screen opens through the display bridge; pause,
// resume, snapshots, power off and removal go through libvirt. One domain booted for the file.

const missing = libvirtMissing();
let lv: SessionLibvirt;
let engine: Engine;
let hostId = '';
const DOM = 'h8-wizard';

beforeAll(async () => {
  if (missing) return;
  lv = await startSessionLibvirt('hosts');
  await lv.addPool('default');
  engine = await tempEngine();
}, 120_000);

afterAll(async () => {
  if (missing) return;
  await disposeEngine(engine);
  if (lv) {
    await removeAllDomains(lv);
    await lv.stop();
  }
}, 60_000);

describe.skipIf(!!missing)('libvirt hosts (a private session daemon)', () => {
  it('refuses a URI libvirt does not answer on, and a malformed one, storing nothing', async () => {
    await expect(engine.client.call('hosts.add', { name: 'nowhere', uri: `qemu+unix:///session?socket=${lv.dir}/no-such.sock` })).rejects.toMatchObject({ code: 'TOOL_FAILED', message: expect.stringMatching(/cannot reach libvirt .*nothing was added/) });
    await expect(engine.client.call('hosts.add', { name: 'bad', uri: 'server.example' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not a libvirt URI/) });
    expect(await engine.client.call('hosts.list', {})).toEqual([]);
  });

  it('adds the daemon as a host (web clients may not), and `vireo host ls` shows it answering', async () => {
    const web = await engine.dispatch('hosts.add', { name: 'lab', uri: lv.uri }, { kind: 'web', roots: [], allowExtraArgs: false });
    expect(web).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    const h = await engine.client.call('hosts.add', { name: 'lab', uri: lv.uri });
    expect(h).toMatchObject({ name: 'lab', reachable: true, localSockets: true, libvirtVersion: expect.stringMatching(/^\d+\./) });
    hostId = h.id;
    await expect(engine.client.call('hosts.add', { name: 'lab', uri: lv.uri })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // The CLI reaches the same library through the engine that owns it.
    const ls = await runVireo(engine.home, ['host', 'ls']);
    expect(ls.stdout).toMatch(/^lab\s+qemu\+unix:\/\/\/session\?socket=\S+\s+libvirt \d/m);
  });

  it("lists a domain libvirt already had, with its state and its config read back from its XML", async () => {
    const disk = `${lv.dir}/pool/plain.qcow2`;
    await run('qemu-img', ['create', '-f', 'qcow2', disk, '32M']);
    await lv.own(disk);
    await lv.virsh(['pool-refresh', 'default']);
    const xml = `<domain type='qemu'><name>h8-plain</name><memory unit='KiB'>131072</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk></devices></domain>`;
    await writeFile(`${lv.dir}/plain.xml`, xml);
    await lv.virsh(['define', `${lv.dir}/plain.xml`]);
    const ds = await engine.client.call('hosts.domains', { host: 'lab' });
    expect(ds).toEqual([expect.objectContaining({ hostId, name: 'h8-plain', state: 'stopped', libvirtState: 'shut off', persistent: true })]);
    const d = await engine.client.call('hosts.domain', { host: 'lab', domain: 'h8-plain' });
    expect(d.info).toMatchObject({ memoryMiB: 128, vcpus: 1, machine: expect.stringMatching(/^pc/), madeByVireo: false, disks: [expect.objectContaining({ file: disk, bus: 'virtio' })] });
    await expect(engine.client.call('hosts.domain', { host: 'lab', domain: 'no-such' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("creates a VM from the wizard's answers on the host, which boots the test guest", async () => {
    const fx = await ensureFixtures();
    const d = await engine.client.call('hosts.create', { host: 'lab', name: DOM, iso: fx.iso, memory: '256M', disk: '64M', cpus: 1, firmware: 'bios', accel: 'tcg', start: true });
    expect(d).toMatchObject({ name: DOM, state: 'running', dropped: [] });
    expect(d.info).toMatchObject({ madeByVireo: true, firmware: 'bios', memoryMiB: 256, domainType: 'qemu' });
    // The disk and the ISO are volumes of the host's pool (the ISO came through the connection).
    const vols = await lv.virsh(['vol-list', 'default']);
    expect(vols).toMatch(/h8-wizard-disk0\.qcow2/);
    expect(vols).toMatch(/h8-wizard-testguest\.iso/);
    // Its serial console through the API: the domain's serial is a unix socket (a pty would
    // need a terminal on the host), dialled by the display bridge behind a token.
    const info = (await engine.client.call('hosts.domain', { host: 'lab', domain: DOM })).info;
    expect(info.console).toMatchObject({ type: 'unix', socket: expect.stringMatching(/\/pool\/\.h8-wizard-[0-9a-f]{8}\.serial\.sock$/) });
    const s = await engine.client.call('hosts.console', { host: 'lab', domain: DOM });
    const text = await readConsoleUntil(s.url, GUEST_MARKERS.ready, 150_000, DOM);
    expect(text).toMatch(/firmware=bios/);
    // Input reaches the guest's shell, and its output the log file beside the disk.
    const again = await engine.client.call('hosts.console', { host: 'lab', domain: DOM });
    const ws = new WebSocket(again.url);
    await new Promise((r) => ws.once('open', r));
    const echoed = new Promise<string>((resolve) => {
      let t = '';
      ws.on('message', (b: Buffer, bin: boolean) => {
        if (bin) t += b.toString('latin1');
        if (/H8-CONSOLE-42/.test(t)) resolve(t);
      });
    });
    ws.send(Buffer.from('echo H8-CONSOLE-$((40+2))\n'), { binary: true });
    await echoed;
    ws.close();
    expect(readFileSync(info.console!.log!, 'latin1')).toMatch(GUEST_MARKERS.ready);
  });

  it('refuses the console of a stopped domain and of one whose serial is not a socket, with the reason', async () => {
    await expect(engine.client.call('hosts.console', { host: 'lab', domain: 'h8-plain' })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/shut off: start it/) });
  });

  it("opens the domain's screen through the display bridge (libvirt's VNC unix socket), with no TCP port", async () => {
    const live = await lv.virsh(['dumpxml', DOM]);
    expect(live).not.toMatch(/<graphics[^>]*port='\d+'/);
    const s = await engine.client.call('hosts.display', { host: 'lab', domain: DOM });
    const rfb = await RfbClient.overWebSocket(s.url);
    const init = await rfb.handshake();
    expect(init.width).toBeGreaterThan(0);
    expect(init.height).toBeGreaterThan(0);
    rfb.close();
  });

  it('pauses, resumes and snapshots the domain through libvirt', async () => {
    expect((await engine.client.call('hosts.control', { host: 'lab', domain: DOM, action: 'pause' })).state).toBe('paused');
    expect((await engine.client.call('hosts.control', { host: 'lab', domain: DOM, action: 'resume' })).state).toBe('running');
    const after = await engine.client.call('hosts.snapshot', { host: 'lab', domain: DOM, op: 'save', name: 'booted', description: 'at the prompt' });
    expect(after).toEqual([expect.objectContaining({ name: 'booted', current: true, state: 'running', description: 'at the prompt', parent: null })]);
    expect((await engine.client.call('hosts.domain', { host: 'lab', domain: DOM })).snapshots.map((x) => x.name)).toEqual(['booted']);
    expect(await engine.client.call('hosts.snapshot', { host: 'lab', domain: DOM, op: 'delete', name: 'booted' })).toEqual([]);
    await expect(engine.client.call('hosts.snapshot', { host: 'lab', domain: DOM, op: 'restore', name: 'never' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('powers it off (its screen token then refused), removes it with its volumes, and forgets the host', async () => {
    const s = await engine.client.call('hosts.display', { host: 'lab', domain: DOM });
    expect((await engine.client.call('hosts.control', { host: 'lab', domain: DOM, action: 'poweroff' })).state).toBe('stopped');
    await expect(RfbClient.overWebSocket(s.url).then((r) => r.handshake())).rejects.toThrow();
    await expect(engine.client.call('hosts.display', { host: 'lab', domain: DOM })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(await engine.client.call('hosts.undefine', { host: 'lab', domain: DOM, removeStorage: true })).toEqual({ removed: DOM });
    expect((await engine.client.call('hosts.domains', { host: 'lab' })).map((x) => x.name)).toEqual(['h8-plain']);
    expect(await lv.virsh(['vol-list', 'default'])).not.toMatch(/h8-wizard/);
    expect(await engine.client.call('hosts.remove', { host: 'lab' })).toEqual({ removed: 'lab' });
    expect(await engine.client.call('hosts.list', {})).toEqual([]);
  });
});
