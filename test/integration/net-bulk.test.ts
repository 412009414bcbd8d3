import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get as httpGet, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { findPasst } from '../../electron/engine/net/nat/passt.ts';
import { natFiles } from '../../electron/engine/net/nat/plan.ts';
import { pidAlive, waitForExit } from '../../electron/engine/vm/process.ts';
import { directBootArgs, SerialShell } from '../fixtures/guest.ts';
import { serveBlob } from '../fixtures/http-blob.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { freePort } from './net-helpers.ts';

// Issue 14: bulk copies, byte for byte, through passt and between two guests on a private
// network. A 24 MiB download from the host through passt stalled for good after about 1 MB
// (QEMU 7.2's stream server blocks on a full socket, and Debian 12's passt loses the frame
// stream when its connection is non-blocking: resources/net/passt-relay.mjs says how); the
// relay carries it now. Guest "a": NAT on passt + private "bulk"; guest "b": private "bulk".
// Checked with md5 on both ends, no rate measured (so not integration-solo). The last test
// replaces passt (a forward change) in the middle of a download and checks the card still
// carries a whole one: QEMU's connection outlives passt in Vireo's keeper.

const MIB = 24;
let engine: Engine;
let host: Server;
let hostPort = 0;
let longHost: Server;
let longPort = 0;
const shells: SerialShell[] = [];
const guests: Record<'a' | 'b', { vm: VmDetails; sh: SerialShell }> = {} as never;
const MACS = { a0: '52:54:00:b1:00:a0', a1: '52:54:00:b1:00:a1', b0: '52:54:00:b1:00:b0' };
const IPS = { a: '10.78.0.1', b: '10.78.0.2' };

/** The host's file: MIB MiB of a pattern no compression or zero-page trick could shortcut. */
const chunk = Buffer.alloc(1024 * 1024);
for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + (i >> 11)) & 0xff;
const hostMd5 = (() => {
  const h = createHash('md5');
  for (let i = 0; i < MIB; i++) h.update(chunk);
  return h.digest('hex');
})();

async function boot(name: 'a' | 'b', networks: unknown[]) {
  const created = await createGuestVm(engine, `netbulk-${name}`, { iso: null, disk: '16M', memory: '256M' });
  await engine.client.call('vms.update', { vm: created.id, patch: { networks, advanced: { extraArgs: await directBootArgs() } } });
  const vm = await engine.client.call('vms.start', { vm: created.id });
  await waitForReady(vm, 150_000);
  const sh = await SerialShell.connect(serialSocketOf(engine, vm));
  shells.push(sh);
  guests[name] = { vm, sh };
}

/** A download long enough (seconds) for passt to be replaced while it runs. */
const LONG_MIB = 400;


function fetchText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const md5Of = (out: string) => /^([0-9a-f]{32}) /m.exec(out)?.[1];

beforeAll(async () => {
  engine = await tempEngine();
  ({ server: host, port: hostPort } = await serveBlob(chunk, MIB));
  ({ server: longHost, port: longPort } = await serveBlob(chunk, LONG_MIB));
  await Promise.all([
    boot('a', [
      { id: 'net0', mac: MACS.a0, mode: 'user', model: 'virtio-net-pci', natBackend: 'passt' },
      { id: 'net1', mac: MACS.a1, mode: 'private', network: 'bulk' },
    ]),
    boot('b', [{ id: 'net0', mac: MACS.b0, mode: 'private', network: 'bulk' }]),
  ]);
  expect(await guests.a.sh.run(`netstatic ${MACS.a1} ${IPS.a}/24`, 15_000)).toMatch(/NETSTATIC eth\d+ /);
  expect(await guests.b.sh.run(`netstatic ${MACS.b0} ${IPS.b}/24`, 15_000)).toMatch(/NETSTATIC eth\d+ /);
}, 300_000);

afterAll(async () => {
  shells.forEach((s) => s.close());
  host?.close();
  longHost?.close();
  const ids = engine ? engine.vms.list().map((v) => v.id) : [];
  await disposeEngine(engine);
  expect(qemuPidsFor(ids)).toEqual([]);
});

describe('bulk copies arrive whole', () => {
  it(`a ${MIB} MiB download from the host through passt`, async () => {
    const sh = guests.a.sh;
    const up = await sh.run('netup eth0', 60_000);
    const gw = /NETUP eth0 \S+ gw (\S+)/.exec(up)?.[1];
    expect(gw, up).toBeTruthy();
    // timeout: a stall fails this test with what arrived, instead of hanging the file.
    const out = await sh.run(`timeout 90 wget -q -O /tmp/host.bin http://${gw}:${hostPort}/big; ls -l /tmp/host.bin; md5sum /tmp/host.bin; rm /tmp/host.bin`, 120_000);
    expect(out).toContain(` ${MIB * 1024 * 1024} `);
    expect(md5Of(out)).toBe(hostMd5);
  }, 150_000);

  it(`${MIB} MiB both ways between two guests on a private network`, async () => {
    // b serves a file of its own; a fetches it; then a serves one and b fetches it.
    const mk = `dd if=/dev/urandom of=/srv/www/big bs=1048576 count=${MIB} 2>/dev/null; md5sum /srv/www/big`;
    expect(await guests.b.sh.run('httpserve 8081', 20_000)).toContain('HTTPD-UP 8081');
    const bSum = md5Of(await guests.b.sh.run(mk, 60_000));
    const got = await guests.a.sh.run(`timeout 90 wget -q -O /tmp/b.bin http://${IPS.b}:8081/big; ls -l /tmp/b.bin; md5sum /tmp/b.bin; rm /tmp/b.bin`, 120_000);
    expect(got).toContain(` ${MIB * 1024 * 1024} `);
    expect(md5Of(got)).toBe(bSum);

    expect(await guests.a.sh.run('httpserve 8082', 20_000)).toContain('HTTPD-UP 8082');
    const aSum = md5Of(await guests.a.sh.run(mk, 60_000));
    const back = await guests.b.sh.run(`timeout 90 wget -q -O /tmp/a.bin http://${IPS.a}:8082/big; ls -l /tmp/a.bin; md5sum /tmp/a.bin; rm /tmp/a.bin`, 120_000);
    expect(back).toContain(` ${MIB * 1024 * 1024} `);
    expect(md5Of(back)).toBe(aSum);
  }, 300_000);

  it('passt replaced in the middle of a bulk download (forwards changed live) leaves the card in step: the next download arrives whole', async () => {
    // The keeper stops passt only while it waits in epoll, so no half frame is left on QEMU's
    // connection, which outlives passt; a frame cut there would make QEMU drop the link for good.
    const sh = guests.a.sh;
    const { vm } = guests.a;
    const gw = /NETUP eth0 \S+ gw (\S+)/.exec(await sh.run('netup eth0', 60_000))?.[1];
    expect(await sh.run('echo KEEPER-OK > /srv/www/k.txt; httpserve 8083', 20_000)).toContain('HTTPD-UP 8083');
    await sh.run(`(timeout 15 wget -q -O /dev/null http://${gw}:${longPort}/big; echo BG-DONE $?) > /tmp/bg.log 2>&1 &`, 10_000);
    // Mid-download (400 MiB take several seconds here): two replacements of passt.
    await sh.run('sleep 1', 10_000);
    const port = await freePort();
    await engine.client.call('forwards.add', { vm: vm.id, forward: { hostPort: port, guestPort: 8083 } });
    expect((await fetchText(port, '/k.txt')).trim()).toBe('KEEPER-OK');
    const other = await freePort();
    await engine.client.call('forwards.add', { vm: vm.id, forward: { hostPort: other, guestPort: 8083 } });
    // The open download dropped with the old passt (the UI says so) or finished: either way it ends.
    expect(await sh.run('while ! grep -q BG-DONE /tmp/bg.log; do sleep 1; done; cat /tmp/bg.log', 90_000)).toMatch(/BG-DONE \d+/);
    const out = await sh.run(`timeout 90 wget -q -O /tmp/host.bin http://${gw}:${hostPort}/big; ls -l /tmp/host.bin; md5sum /tmp/host.bin; rm /tmp/host.bin`, 120_000);
    expect(out).toContain(` ${MIB * 1024 * 1024} `);
    expect(md5Of(out)).toBe(hostMd5);
    expect((await fetchText(other, '/k.txt')).trim()).toBe('KEEPER-OK');
    // The keeper raised the socket buffer, made the connection blocking, and saw where passt was.
    const log = await readFile(join(engine.vms.resolve(vm.id).paths.logs, 'passt-net0.log'), 'utf8');
    expect(log).toContain('passt-relay: listening on');
    expect(log).not.toMatch(/perl|non-blocking|stayed busy/);
    // Only root may read the non-dumpable passt's /proc/PID/syscall (the keeper's header says what that costs).
    if (process.getuid?.() === 0) expect(log).not.toMatch(/cannot see where/);
  }, 240_000);

  it('stopping the VM stops its passt keeper and passt, and their files go', async () => {
    const { vm } = guests.a;
    const runtime = engine.vms.resolve(vm.id).paths.runtime;
    const { pidFile } = natFiles(runtime, 'net0');
    const keeper = await findPasst(runtime, 'net0');
    const passt = Number.parseInt(await readFile(`${pidFile}.passt`, 'utf8'), 10);
    expect(keeper).not.toBeNull();
    expect(pidAlive(passt)).toBe(true);
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    expect(await waitForExit(keeper!, 10_000)).toBe(true);
    expect(await waitForExit(passt, 5_000)).toBe(true);
    for (const f of [pidFile, `${pidFile}.passt`, `${pidFile}.args`]) expect(existsSync(f), f).toBe(false);
  }, 60_000);
});
