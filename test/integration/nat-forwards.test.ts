import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { findPasst } from '../../electron/engine/net/nat/passt.ts';
import { natFiles } from '../../electron/engine/net/nat/plan.ts';
import { pidAlive, waitForExit } from '../../electron/engine/vm/process.ts';
import { webCaller } from '../../electron/engine/policy/confine.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { directBootArgs, SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { freePort } from './net-helpers.ts';

// Issue 14, acceptance 1, on both NAT backends: the guest gets its address by DHCP; a port
// forward added while it runs reaches the guest's httpd from 127.0.0.1; removing it closes
// the port; it is saved in vm.json. A taken host port is refused naming its holder, a web
// caller may bind loopback only, and the passt VM's forwards survive an engine restart and can
// be changed by the new engine. Two guests (passt, slirp) boot at once, direct-kernel.

let engine: Engine;
const shells: SerialShell[] = [];
const vms: Record<'passt' | 'slirp', { vm: VmDetails; sh: SerialShell; bootId: string; gw: string }> = {} as never;

/** The pid of the passt the card's keeper runs (PIDFILE.passt). */
const passtChild = (runtime: string) => Number.parseInt(readFileSync(`${natFiles(runtime, 'net0').pidFile}.passt`, 'utf8'), 10);

function get(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The port is closed: a connection to it is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}


const savedForwards = (vm: VmDetails) => (JSON.parse(readFileSync(engine.vms.resolve(vm.id).paths.config, 'utf8')) as { networks: { portForwards: unknown[] }[] }).networks[0]!.portForwards;

async function boot(backend: 'passt' | 'slirp') {
  const created = await createGuestVm(engine, `nat-${backend}`, { iso: null, disk: '16M' });
  const nic = created.config!.networks[0]!;
  await engine.client.call('vms.update', {
    vm: created.id,
    patch: {
      // virtio-net: the card whose passt can be replaced while it runs (forwards.ts says why).
      networks: [{ ...nic, model: 'virtio-net-pci', natBackend: backend }],
      advanced: { extraArgs: await directBootArgs() },
    },
  });
  const vm = await engine.client.call('vms.start', { vm: created.id });
  await waitForReady(vm, 120_000);
  const sh = await SerialShell.connect(serialSocketOf(engine, vm));
  shells.push(sh);
  const bootId = /VIREO-GUEST-BOOT (\S+)/.exec(readFileSync(vm.paths.serialLog, 'utf8'))![1]!;
  const up = await sh.run('netup eth0', 60_000);
  const m = /NETUP eth0 (\d+\.\d+\.\d+\.\d+)\/(\d+) gw (\S+)/.exec(up);
  if (!m) throw new Error(`${backend}: no DHCP lease: ${up}`);
  expect(await sh.run('httpserve 8080', 20_000)).toContain('HTTPD-UP 8080');
  vms[backend] = { vm, sh, bootId, gw: m[3]! };
  return m;
}

beforeAll(async () => {
  engine = await tempEngine();
  // Both guests at once: each one's boot is mostly TCG waiting, not both CPUs.
  const [p, s] = await Promise.all([boot('passt'), boot('slirp')]);
  // passt hands the guest this host's address; slirp its own 10.0.2.0/24.
  expect(p[1]).not.toBe('10.0.2.15');
  expect(s[1]).toBe('10.0.2.15');
}, 300_000);

afterAll(async () => {
  shells.forEach((s) => s.close());
  const ids = Object.values(vms).map((v) => v.vm.id);
  await disposeEngine(engine);
  expect(qemuPidsFor(ids)).toEqual([]);
}, 60_000);

describe.each(['passt', 'slirp'] as const)('NAT over %s', (backend) => {
  it('vms.get names the backend and why; host.info says whether passt is there', async () => {
    const d = await engine.client.call('vms.get', { vm: vms[backend].vm.id });
    expect(d.nat).toEqual([expect.objectContaining({ nic: 'net0', backend, running: true, reason: `${backend} chosen in the card's settings` })]);
    const host = await engine.client.call('host.info', {});
    expect(host.passt).toEqual(expect.objectContaining({ available: true, binary: 'passt' }));
  });

  it("the guest's card takes the MTU the backend's DHCP offers: passt 65520 (its frames up to 64 KiB), slirp none (1500)", async () => {
    expect((await vms[backend].sh.run('cat /sys/class/net/eth0/mtu', 10_000)).trim()).toBe(backend === 'passt' ? '65520' : '1500');
  });

  it('a forward added while the guest runs reaches its httpd from 127.0.0.1, is saved, and closes when removed', async () => {
    const { vm, bootId } = vms[backend];
    const port = await freePort();
    expect(await refused(port)).toBe(true);
    const added = await engine.client.call('forwards.add', { vm: vm.id, forward: { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 8080 } });
    expect(added.nics[0]!.forwards).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 8080 }]);
    expect((await get(port)).trim()).toBe(`VIREO-HTTPD ${bootId}`);
    expect(savedForwards(vm)).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 8080 }]);

    const removed = await engine.client.call('forwards.remove', { vm: vm.id, protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port });
    expect(removed.nics[0]!.forwards).toEqual([]);
    expect(await refused(port)).toBe(true);
    expect(savedForwards(vm)).toEqual([]);
  });

  it('a host port that is taken is refused before anything changes, naming the process that holds it', async () => {
    const { vm } = vms[backend];
    const holder: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (holder.address() as { port: number }).port;
    try {
      const err = await engine.client.call('forwards.add', { vm: vm.id, forward: { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 8080 } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'IN_USE', details: { pid: process.pid } });
      expect((err as Error).message).toContain(`127.0.0.1:${port}/tcp is in use by process ${process.pid} (`);
      expect(savedForwards(vm)).toEqual([]);
      // The guest's network still works: nothing was replaced or added.
      const port2 = await freePort();
      await engine.client.call('forwards.add', { vm: vm.id, forward: { hostPort: port2, guestPort: 8080 } });
      expect(await get(port2)).toContain('VIREO-HTTPD');
      await engine.client.call('forwards.remove', { vm: vm.id, hostPort: port2 });
    } finally {
      holder.close();
    }
  });
});

describe('NAT forwards: policy and engine restarts', () => {
  it('a web caller may bind loopback only; the desktop or CLI may bind another address', async () => {
    const { vm } = vms.slirp;
    const port = await freePort();
    const fwd = { protocol: 'tcp' as const, hostAddress: '0.0.0.0', hostPort: port, guestPort: 8080 };
    const err = await engine.handlers['forwards.add']({ vm: vm.id, forward: fwd }, webCaller()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'hostAddress' } });
    expect((err as Error).message).toContain('only loopback');
    expect(savedForwards(vm)).toEqual([]);
    await engine.handlers['forwards.add']({ vm: vm.id, forward: { ...fwd, hostAddress: '127.0.0.1' } }, webCaller());
    await engine.client.call('forwards.remove', { vm: vm.id, hostPort: port });
  });

  it("passt's forwards keep working when the engine goes, and a new engine changes them", async () => {
    const { vm, bootId } = vms.passt;
    const keep = await freePort();
    await engine.client.call('forwards.add', { vm: vm.id, forward: { hostPort: keep, guestPort: 8080 } });
    const entry = engine.vms.resolve(vm.id);
    // The keeper (the pidfile's pid) holds QEMU's connection for the VM's life; passt is its child.
    const keeperPid = await findPasst(entry.paths.runtime, 'net0');
    expect(keeperPid).not.toBeNull();
    const passtPid = passtChild(entry.paths.runtime);

    const home = engine.home;
    await engine.dispose(); // VMs and their helpers keep running
    expect((await get(keep)).trim()).toBe(`VIREO-HTTPD ${bootId}`);

    engine = await createEngine({ home });
    const d = await engine.client.call('vms.get', { vm: vm.id });
    expect(d.state).toBe('running');
    expect(d.nat[0]).toMatchObject({ backend: 'passt', running: true });
    const more = await freePort();
    await engine.client.call('forwards.add', { vm: vm.id, forward: { hostPort: more, guestPort: 8080 } });
    expect(await findPasst(entry.paths.runtime, 'net0')).toBe(keeperPid); // the same connection to QEMU
    expect(passtChild(entry.paths.runtime)).not.toBe(passtPid); // passt replaced
    expect((await get(more)).trim()).toBe(`VIREO-HTTPD ${bootId}`);
    expect((await get(keep)).trim()).toBe(`VIREO-HTTPD ${bootId}`);
    await engine.client.call('forwards.remove', { vm: vm.id, hostPort: keep });
    expect(await refused(keep)).toBe(true);
    expect((await get(more)).trim()).toBe(`VIREO-HTTPD ${bootId}`);

    // QEMU dies while no engine watches: the next engine finds it gone and stops its passt.
    const last = (await findPasst(entry.paths.runtime, 'net0'))!;
    const lastPasst = passtChild(entry.paths.runtime);
    await engine.dispose();
    process.kill(d.runtime.pid!, 'SIGKILL');
    await waitForExit(d.runtime.pid!, 10_000);
    // With no engine running, the keeper sees its QEMU gone and stops passt and itself; the
    // pidfile stays for the next engine.
    expect(await waitForExit(last, 10_000)).toBe(true);
    expect(await waitForExit(lastPasst, 5_000)).toBe(true);
    expect(existsSync(natFiles(entry.paths.runtime, 'net0').pidFile)).toBe(true);
    engine = await createEngine({ home });
    expect((await engine.client.call('vms.get', { vm: vm.id })).state).not.toBe('running');
    expect(pidAlive(last)).toBe(false);
    expect(pidAlive(lastPasst)).toBe(false);
    expect(existsSync(natFiles(entry.paths.runtime, 'net0').pidFile)).toBe(false);
    expect(await refused(more)).toBe(true);
  }, 120_000);
});
