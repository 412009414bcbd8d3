import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { BRIDGE_CONF } from '../../electron/engine/net/bridge.ts';
import { ifbName, tapsOf } from '../../electron/engine/resources/net-limits.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { directBootArgs, SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';

// Issue 14, acceptance 4: a VM bridged to a bridge this test creates is reached from a peer in
// a network namespace this test creates (veth: one end on the bridge, the other in the netns).
// The bridge has no uplink and no address, so nothing leaves the machine. Needs root (CI runs
// as root); /etc/qemu/bridge.conf is restored afterwards. Before the ACL line exists, the start
// is refused with the line to add.

const isRoot = process.getuid?.() === 0;
const tag = (process.pid % 100000).toString(36);
const BR = `vbr${tag}`;
const NS = `vireo-peer-${tag}`;
const VETH = `vvh${tag}`;
const PEER = `vvp${tag}`;
const MAC = '52:54:00:4e:01:b0';
let engine: Engine;
let vm: VmDetails;
let sh: SerialShell | undefined;
let savedConf: string | null = null;
let confTouched = false;

const ip = (...args: string[]) => run('ip', args, { timeoutMs: 10_000 });

/** The guest sends to the peer in the namespace, which times `bytes` after the first 100 kB (a bucket's burst) and prints bytes/s. */
async function guestSendRate(bytes: number): Promise<number> {
  const recv = `let n=0,t0=0;require('net').createServer((c)=>{c.on('data',(d)=>{n+=d.length;if(!t0&&n>=100000)t0=performance.now();if(n>=${bytes}){console.log((n-100000)/((performance.now()-t0)/1000));process.exit(0)}})}).listen(7301,'10.78.0.1')`;
  const listener = run('ip', ['netns', 'exec', NS, process.execPath, '-e', recv], { timeoutMs: 90_000 });
  await new Promise((r) => setTimeout(r, 1000));
  await sh!.run(`(for i in 1 2 3 4 5 6 7 8 9 10; do dd if=/dev/zero bs=1k count=${Math.ceil(bytes / 1024) + 64} 2>/dev/null | nc 10.78.0.1 7301 >/dev/null 2>&1 && break; sleep 0.5; done) &`, 10_000);
  return Number((await listener).stdout.trim());
}

/** The peer in the namespace sends `bytes` to the guest; bytes/s as the guest timed them from its first byte. */
async function guestReceiveRate(bytes: number): Promise<number> {
  await sh!.run('rm -f /tmp/rx; (nc -l -p 7300 | (dd bs=1 count=1 of=/dev/null 2>/dev/null; time cat >/dev/null)) 2>/tmp/rx &', 10_000);
  await new Promise((r) => setTimeout(r, 1500));
  const send = `const s=require('net').connect(7300,'10.78.0.2',()=>{s.end(Buffer.alloc(${bytes}))});s.on('close',()=>process.exit(0));s.on('error',(e)=>{console.error(e.message);process.exit(1)})`;
  await run('ip', ['netns', 'exec', NS, process.execPath, '-e', send], { timeoutMs: 60_000 });
  let out = '';
  for (let i = 0; i < 40 && !/real/.test(out); i++) out = await sh!.run('cat /tmp/rx', 10_000);
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(out);
  if (!m) throw new Error(`the guest did not time the transfer: ${out}`);
  return bytes / (Number(m[1]) * 60 + Number(m[2]));
}

describe.skipIf(!isRoot)('bridged card (root: creates a bridge, a veth pair and a network namespace)', () => {
  beforeAll(async () => {
    await ip('link', 'add', BR, 'type', 'bridge');
    await ip('link', 'set', BR, 'up');
    await ip('netns', 'add', NS);
    await ip('link', 'add', VETH, 'type', 'veth', 'peer', 'name', PEER);
    await ip('link', 'set', VETH, 'master', BR);
    await ip('link', 'set', VETH, 'up');
    await ip('link', 'set', PEER, 'netns', NS);
    await ip('-n', NS, 'addr', 'add', '10.78.0.1/24', 'dev', PEER);
    await ip('-n', NS, 'link', 'set', PEER, 'up');
    await ip('-n', NS, 'link', 'set', 'lo', 'up');
    engine = await tempEngine();
    const created = await createGuestVm(engine, 'bridged', { iso: null, disk: '16M' });
    vm = await engine.client.call('vms.update', {
      vm: created.id,
      patch: {
        networks: [{ id: 'net0', mac: MAC, mode: 'bridged', bridge: BR }],
        advanced: { extraArgs: await directBootArgs() },
      },
    });
    savedConf = existsSync(BRIDGE_CONF) ? readFileSync(BRIDGE_CONF, 'utf8') : null;
  }, 120_000);

  afterAll(async () => {
    sh?.close();
    const ids = engine ? engine.vms.list().map((v) => v.id) : [];
    await disposeEngine(engine);
    if (confTouched) {
      if (savedConf === null) rmSync(BRIDGE_CONF, { force: true });
      else writeFileSync(BRIDGE_CONF, savedConf);
    }
    await ip('netns', 'del', NS).catch(() => {});
    await ip('link', 'del', VETH).catch(() => {});
    await ip('link', 'del', BR).catch(() => {});
    expect(qemuPidsFor(ids)).toEqual([]);
  });

  it('refuses to start while bridge.conf does not allow the bridge, saying which line to add', async () => {
    if (savedConf !== null && new RegExp(`^\\s*allow\\s+(${BR}|all)\\b`, 'm').test(savedConf)) return; // this host already allows it
    await expect(engine.client.call('vms.start', { vm: vm.id })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining(`echo 'allow ${BR}' | sudo tee -a ${BRIDGE_CONF}`),
    });
    expect(qemuPidsFor([vm.id])).toEqual([]);
  });

  it('the peer in the namespace reaches the bridged guest, and the guest the peer', async () => {
    mkdirSync('/etc/qemu', { recursive: true });
    confTouched = true;
    writeFileSync(BRIDGE_CONF, `${savedConf ?? ''}allow ${BR}\n`);
    const started = await engine.client.call('vms.start', { vm: vm.id });
    await waitForReady(started, 150_000);
    sh = await SerialShell.connect(serialSocketOf(engine, started));
    expect(await sh.run(`netstatic ${MAC} 10.78.0.2/24`, 15_000)).toMatch(/NETSTATIC eth\d+ 10\.78\.0\.2\/24/);
    await sh.run('(echo FROM-BRIDGED | nc -l -p 7200 >/dev/null) &', 10_000);
    const ping = await ip('netns', 'exec', NS, 'busybox', 'ping', '-c', '3', '-W', '3', '10.78.0.2').catch((e: Error) => ({ stdout: e.message }));
    expect(ping.stdout).toMatch(/[1-3] (packets )?received/);
    const nc = await run('ip', ['netns', 'exec', NS, 'busybox', 'nc', '-w', '5', '10.78.0.2', '7200'], { timeoutMs: 20_000, input: '' });
    expect(nc.stdout).toContain('FROM-BRIDGED');
    expect(await sh.run('ping -c 2 -W 2 10.78.0.1', 20_000)).toMatch(/[12] packets received/);
  }, 240_000);

  // Issue 18, network limits: a bridged card is shaped with tc on its tap (what the guest
  // receives) and an ifb device of the VM's (what it sends), set and removed live.
  it('a network limit shapes the bridged tap both ways (tc), live; removing it removes the shaping', async () => {
    const [pid] = qemuPidsFor([vm.id]);
    const [tap] = await tapsOf(pid!);
    expect(tap).toMatch(/^tap/);
    const ifb = ifbName(vm.id, 0);
    // Unlimited first, so the limit below is seen to change something.
    expect(await guestReceiveRate(1_500_000)).toBeGreaterThan(750_000);
    const info = await engine.client.call('limits.set', { vm: vm.id, netBytesPerSec: 500_000 });
    expect(info.network.find((n) => n.backend === 'bridged')).toMatchObject({ available: true });
    expect(info.pending.join(' ')).not.toMatch(/net0 is not limited/);
    const qdisc = (dev: string) => run('tc', ['qdisc', 'show', 'dev', dev], { timeoutMs: 10_000 }).then((r) => r.stdout);
    expect(await qdisc(tap!)).toMatch(/tbf .*rate 4Mbit/);
    expect(await qdisc(tap!)).toMatch(/ingress ffff:/);
    expect(await qdisc(ifb)).toMatch(/tbf .*rate 4Mbit/);
    expect((await run('tc', ['filter', 'show', 'dev', tap!, 'parent', 'ffff:'], { timeoutMs: 10_000 })).stdout).toContain(`Redirect to device ${ifb}`);

    // What the guest receives arrives at about 500 kB/s: the peer sends 1.5 MB, the guest times it from its first byte.
    const rate = await guestReceiveRate(1_500_000);
    expect(rate).toBeGreaterThan(425_000);
    expect(rate).toBeLessThan(575_000);
    // And what it sends, through the ifb.
    const sent = await guestSendRate(1_500_000);
    expect(sent).toBeGreaterThan(425_000);
    expect(sent).toBeLessThan(575_000);

    await engine.client.call('limits.set', { vm: vm.id, netBytesPerSec: null });
    expect(await qdisc(tap!)).not.toMatch(/tbf|ingress/);
    expect(existsSync(`/sys/class/net/${ifb}`)).toBe(false);
    // A limit saved while running is restored at the next start by the launch (net-rate helper): set it again for the stop check.
    await engine.client.call('limits.set', { vm: vm.id, netBytesPerSec: 2_000_000 });
    expect(existsSync(`/sys/class/net/${ifb}`)).toBe(true);
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    // The launch's helpers stop once QEMU has exited.
    for (let i = 0; i < 100 && existsSync(`/sys/class/net/${ifb}`); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(`/sys/class/net/${ifb}`)).toBe(false);
    // The saved limit comes back with the next start, before the guest runs (the launch's net-rate helper).
    sh?.close();
    sh = undefined;
    await engine.client.call('vms.start', { vm: vm.id });
    const [pid2] = qemuPidsFor([vm.id]);
    const [tap2] = await tapsOf(pid2!);
    expect(await qdisc(tap2!)).toMatch(/tbf .*rate 16Mbit/);
    expect(await qdisc(ifb)).toMatch(/tbf .*rate 16Mbit/);
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
  }, 240_000);
});

describe.skipIf(isRoot)('bridged card without root', () => {
  it.skip('needs root to create a bridge, a veth pair and a network namespace (CI runs as root)', () => {});
});
