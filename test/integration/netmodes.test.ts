import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { findSwitch, switchSeen } from '../../electron/engine/net/switch/helper.ts';
import { runtimeRoot } from '../../electron/engine/paths.ts';
import { directBootArgs, SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { freePort } from './net-helpers.ts';

// Issue 14, acceptance 2, 3 and 5 with three direct-kernel guests booted at once:
// - "a": NAT (net0) + private "lab" (net1): sees both cards, gets a NAT lease, reaches "b";
// - "b": private "lab" only;
// - "c": private "lab2" + host-only (rootless: restrict=on) with one allowed host port and a
//   forward in.
// Private networks: a and b reach each other, c (same subnet, other network) reaches neither,
// and no private card reaches the host's loopback services. Host-only: the guest opens the
// allowed host port, not another one the host listens on; the host reaches the guest through
// the forward. The cable: net.link down cuts a from b, up restores it. Addresses: the switch
// saw each private card's address.

let engine: Engine;
const shells: SerialShell[] = [];
const guests: Record<'a' | 'b' | 'c', { vm: VmDetails; sh: SerialShell }> = {} as never;
const servers: Server[] = [];
const hits = { allowed: 0, denied: 0 };
let allowedPort = 0;
let deniedPort = 0;
let forwardPort = 0;

const MACS = { a0: '52:54:00:4e:00:a0', a1: '52:54:00:4e:00:a1', b0: '52:54:00:4e:00:b0', c0: '52:54:00:4e:00:c0', c1: '52:54:00:4e:00:c1' };
const IPS = { a: '10.77.0.1', b: '10.77.0.2', c: '10.77.0.3' };

/**
 * A host loopback service answering every line with `answer`. It keeps the connection open:
 * QEMU's guestfwd reaches it through a chardev that connects once, when QEMU starts.
 */
function listen(answer: string, onHit: () => void): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer((c) => {
      c.on('data', () => {
        onHit();
        c.write(`${answer}\n`);
      });
      c.on('error', () => {});
    }).listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
    servers.push(s);
  });
}


/** Reads the first line the host gets from 127.0.0.1:port (the guest's side of a forward). */
function readFrom(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('end', () => resolve(text.trim()));
    s.on('error', reject);
    s.setTimeout(20_000, () => s.destroy(new Error('no answer from the guest')));
  });
}

async function boot(name: 'a' | 'b' | 'c', networks: unknown[], extraArgs: string[]) {
  const created = await createGuestVm(engine, `netmodes-${name}`, { iso: null, disk: '16M' });
  await engine.client.call('vms.update', { vm: created.id, patch: { networks, advanced: { extraArgs } } });
  const vm = await engine.client.call('vms.start', { vm: created.id });
  await waitForReady(vm, 150_000);
  const sh = await SerialShell.connect(serialSocketOf(engine, vm));
  shells.push(sh);
  guests[name] = { vm, sh };
}

const ping = async (from: 'a' | 'b' | 'c', to: string) => /(\d+) packets received/.exec(await guests[from].sh.run(`ping -c 2 -W 2 ${to}`, 30_000))?.[1] !== '0';
const statik = async (g: 'a' | 'b' | 'c', mac: string, addr: string) => expect(await guests[g].sh.run(`netstatic ${mac} ${addr}`, 15_000)).toMatch(/NETSTATIC eth\d+ /);

beforeAll(async () => {
  engine = await tempEngine();
  const kernel = await directBootArgs();
  allowedPort = await listen('HOST-ALLOWED', () => hits.allowed++);
  deniedPort = await listen('HOST-DENIED', () => hits.denied++);
  forwardPort = await freePort();
  await Promise.all([
    boot('a', [
      { id: 'net0', mac: MACS.a0, mode: 'user' },
      { id: 'net1', mac: MACS.a1, mode: 'private', network: 'lab' },
    ], kernel),
    boot('b', [{ id: 'net0', mac: MACS.b0, mode: 'private', network: 'lab' }], kernel),
    boot('c', [
      { id: 'net0', mac: MACS.c0, mode: 'private', network: 'lab2' },
      { id: 'net1', mac: MACS.c1, mode: 'hostonly', hostPorts: [allowedPort], portForwards: [{ hostPort: forwardPort, guestPort: 7000 }] },
    ], kernel),
  ]);
  await statik('a', MACS.a1, `${IPS.a}/24`);
  await statik('b', MACS.b0, `${IPS.b}/24`);
  await statik('c', MACS.c0, `${IPS.c}/24`);
}, 300_000);

afterAll(async () => {
  shells.forEach((s) => s.close());
  servers.forEach((s) => s.close());
  const ids = engine ? engine.vms.list().map((v) => v.id) : [];
  await disposeEngine(engine);
  expect(qemuPidsFor(ids)).toEqual([]);
});

describe('network modes with real guests', () => {
  it('private "lab": a and b reach each other; c on "lab2" reaches neither', async () => {
    expect(await ping('a', IPS.b)).toBe(true);
    expect(await ping('b', IPS.a)).toBe(true);
    expect(await ping('c', IPS.b)).toBe(false);
    expect(await ping('c', IPS.a)).toBe(false);
    expect(await ping('b', IPS.c)).toBe(false);
    // one switch per network name, in the library's runtime folder
    const rt = runtimeRoot(engine.home);
    expect(await findSwitch(rt, 'lab')).toBeGreaterThan(0);
    expect(await findSwitch(rt, 'lab2')).toBeGreaterThan(0);
  }, 180_000);

  it('a TCP service on a private network answers its peer', async () => {
    await guests.b.sh.run('(echo FROM-B | nc -l -p 7100 >/dev/null) &', 10_000);
    expect(await guests.a.sh.run(`tcpprobe ${IPS.b} 7100`, 20_000)).toContain('TCPPROBE OK FROM-B');
  }, 60_000);

  it('no private card reaches the host\'s loopback services', async () => {
    const before = { ...hits };
    // b has only its private card: neither the NAT gateway nor the host-only address is there.
    for (const addr of ['10.0.2.2', '10.0.2.100', '127.0.0.1']) {
      expect(await guests.b.sh.run(`tcpprobe ${addr} ${allowedPort}`, 20_000)).toContain('TCPPROBE FAIL');
      expect(await guests.b.sh.run(`tcpprobe ${addr} ${deniedPort}`, 20_000)).toContain('TCPPROBE FAIL');
    }
    expect(hits).toEqual(before);
  }, 180_000);

  it('NAT + private on one VM: the guest sees both cards and uses both', async () => {
    const links = await guests.a.sh.run('cat /sys/class/net/*/address', 10_000);
    expect(links).toContain(MACS.a0);
    expect(links).toContain(MACS.a1);
    const nat = await guests.a.sh.run(`netup $(for d in /sys/class/net/*; do [ "$(cat $d/address)" = ${MACS.a0} ] && echo \${d##*/}; done)`, 60_000);
    expect(nat).toMatch(/NETUP eth\d+ \d+\.\d+\.\d+\.\d+\/\d+ gw /);
    expect(await ping('a', IPS.b)).toBe(true);
  }, 120_000);

  it('host-only (rootless substitute): guest → the allowed host port works, another host port and the outside do not; host → guest through the forward', async () => {
    await statik('c', MACS.c1, '10.0.2.15/24');
    await guests.c.sh.run('ip route add default via 10.0.2.2 2>/dev/null; true', 10_000);
    expect(await guests.c.sh.run(`tcpprobe 10.0.2.100 ${allowedPort}`, 20_000)).toContain('TCPPROBE OK HOST-ALLOWED');
    expect(hits.allowed).toBeGreaterThan(0);
    // a host service that is NOT allowed, at the gateway where NAT would reach it
    expect(await guests.c.sh.run(`tcpprobe 10.0.2.2 ${deniedPort}`, 20_000)).toContain('TCPPROBE FAIL');
    expect(await guests.c.sh.run(`tcpprobe 10.0.2.100 ${deniedPort}`, 20_000)).toContain('TCPPROBE FAIL');
    expect(hits.denied).toBe(0);
    // host → guest
    await guests.c.sh.run('(echo GUEST-C | nc -l -p 7000 >/dev/null) &', 10_000);
    // The background nc needs a moment under TCG: read only once the guest says it listens.
    for (let i = 0; i < 40 && !/:7000\s.*LISTEN/.test(await guests.c.sh.run('netstat -ltn', 10_000)); i++) await new Promise((r) => setTimeout(r, 250));
    // slirp accepts on the host side at once; until the guest's nc listens the answer is empty
    let answer = '';
    for (let i = 0; i < 10 && !answer; i++) answer = await readFrom(forwardPort).catch(() => '');
    expect(answer).toBe('GUEST-C');
  }, 180_000);

  it('the cable: net.link down cuts a off "lab", up plugs it back', async () => {
    await expect(engine.client.call('net.link', { vm: guests.a.vm.id, nic: 'net1', up: false })).resolves.toEqual({ nic: 'net1', up: false });
    expect(await guests.a.sh.run(`cat /sys/class/net/*/carrier | tr '\\n' ' '`, 10_000)).toContain('0');
    expect(await ping('a', IPS.b)).toBe(false);
    await engine.client.call('net.link', { vm: guests.a.vm.id, nic: 'net1', up: true });
    // the guest brings the link back by itself; give it a moment through ping's own retries
    let back = false;
    for (let i = 0; i < 5 && !back; i++) back = await ping('a', IPS.b);
    expect(back).toBe(true);
    await expect(engine.client.call('net.link', { vm: guests.a.vm.id, nic: 'net7', up: false })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 180_000);

  it('addresses: the switch saw each private card\'s address; net.addresses shows them per card', async () => {
    // What the switch learnt (used when a guest has no agent); the test guest runs qemu-ga, so
    // net.addresses may answer from the agent instead: both must give the same address.
    const seen = await switchSeen(runtimeRoot(engine.home), 'lab');
    expect(seen[MACS.a1]).toBe(IPS.a);
    expect(seen[MACS.b0]).toBe(IPS.b);
    const a = await engine.client.call('net.addresses', { vm: guests.a.vm.id });
    expect(a.find((x) => x.nic === 'net1')).toMatchObject({ mode: 'private', mac: MACS.a1, ipv4: expect.arrayContaining([IPS.a]), source: expect.stringMatching(/^(agent|switch)$/) });
    expect(a.find((x) => x.nic === 'net0')).toMatchObject({ mode: 'user', source: expect.stringMatching(/^(agent|dhcp-range)$/) });
    const b = await engine.client.call('net.addresses', { vm: guests.b.vm.id });
    expect(b).toEqual([expect.objectContaining({ nic: 'net0', ipv4: expect.arrayContaining([IPS.b]) })]);
  }, 60_000);

  // Issue 18, network limits: a private card is shaped in Vireo's switch (per MAC, both ways;
  // the shaping itself is measured in switch-rate.test.ts with QEMU's framing on real sockets).
  // Here: the engine hands the live limit to the switch and takes it back. Not measured here
  // through the guests: a bulk TCP transfer between two QEMU 7.2 guests over `-netdev stream`
  // stalls after ~100 KB with or without a limit (QEMU stops reading its stream socket, the
  // stall bench/nat.ts found with passt), so a guest-to-guest rate would measure that bug.
  it('a network limit reaches the switch of b\'s private card live and is lifted live; a NAT card says it is not limited', async () => {
    const rates = `${runtimeRoot(engine.home)}/net/lab.rates/${MACS.b0.replace(/:/g, '-')}`;
    const info = await engine.client.call('limits.set', { vm: guests.b.vm.id, netBytesPerSec: 1_000_000 });
    expect(info.limits.netBytesPerSec).toBe(1_000_000);
    expect(info.network.find((n) => n.backend === 'private')).toMatchObject({ available: true });
    expect(readFileSync(rates, 'utf8').trim()).toBe('1000000');
    expect(await ping('a', IPS.b)).toBe(true); // small traffic passes under the limit
    await engine.client.call('limits.set', { vm: guests.b.vm.id, netBytesPerSec: null });
    expect(existsSync(rates)).toBe(false);
    // a: NAT + private. The private card gets the limit, the NAT card says why it cannot.
    const a = await engine.client.call('limits.set', { vm: guests.a.vm.id, netBytesPerSec: 5_000_000 });
    expect(a.pending.join('\n')).toMatch(/card net0 is not limited: NAT/);
    expect(a.pending.join('\n')).not.toMatch(/net1/);
    await engine.client.call('limits.set', { vm: guests.a.vm.id, netBytesPerSec: null });
    // A VM with only a NAT card has nothing to limit: refused, saying which cards can be, and nothing saved.
    const natOnly = await createGuestVm(engine, 'netmodes-natonly', { iso: null, disk: '16M' });
    await engine.client.call('vms.update', { vm: natOnly.id, patch: { networks: [{ id: 'net0', mac: '52:54:00:4e:00:d0', mode: 'user' }] } });
    await expect(engine.client.call('limits.set', { vm: natOnly.id, netBytesPerSec: 1_000_000 })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('only bridged and private-network cards can be limited') });
    expect((await engine.client.call('limits.get', { vm: natOnly.id })).limits.netBytesPerSec).toBeNull();
  }, 120_000);

  it('the switch leaves after its last VM, and only that network\'s switch', async () => {
    const rt = runtimeRoot(engine.home);
    const pid = (await findSwitch(rt, 'lab2'))!;
    await engine.client.call('vms.stop', { vm: guests.c.vm.id, force: true });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await findSwitch(rt, 'lab2')) !== null) await new Promise((r) => setTimeout(r, 100));
    expect(await findSwitch(rt, 'lab2')).toBeNull();
    // gone, not merely without its socket (a zombie counts as gone: it is our child until reaped)
    const gone = () => !existsSync(`/proc/${pid}`) || /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    for (let i = 0; i < 50 && !gone(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(gone()).toBe(true);
    expect(existsSync(`${rt}/net/lab2.sock`)).toBe(false);
    // "lab" still has a and b
    expect(await findSwitch(rt, 'lab')).toBeGreaterThan(0);
  }, 60_000);
});
