import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { chooseNat, natFiles, natPlan, natStatus, runningBackend } from '../../../electron/engine/net/nat/plan.ts';
import { passtForwardArgs } from '../../../electron/engine/net/nat/passt.ts';
import { assertPortFree, portHolder, tryBind } from '../../../electron/engine/net/nat/port-holder.ts';
import { checkForwardCaller, checkForwardsCaller, isLoopback } from '../../../electron/engine/net/nat/policy.ts';
import { webCaller } from '../../../electron/engine/policy/confine.ts';
import { parseForwardSpec } from '../../../electron/cli/commands/forwards.ts';
import { buildArgv } from '../../../electron/engine/qemu/argv/index.ts';
import { cfg, contextFor, NAT_CASES } from './golden/fixtures.ts';

// NAT: which backend a card gets and why, passt's forward options, the port-holder check on
// real sockets, the web caller's loopback rule and the CLI's forward spec.

const PASST = { available: true, binary: 'passt', version: 'passt unknown version' };
const NO_PASST = { available: false, reason: 'passt is not installed, so NAT cards use QEMU\'s built-in slirp: install it' };
const nic = (natBackend?: 'auto' | 'passt' | 'slirp') => ({ id: 'net0', natBackend });

describe('NAT backend choice', () => {
  it('auto takes slirp, saying why (passt installed: choosable, slirp the default; absent or QEMU too old: the reason)', () => {
    expect(chooseNat(nic(), PASST, [7, 2, 0])).toMatchObject({ backend: 'slirp', reason: expect.stringMatching(/^auto: slirp — passt \(passt unknown version\) is installed and can be chosen for this card \(faster downloads, from its 65520-byte MTU\); slirp stays the default/) });
    expect(chooseNat(nic('auto'), NO_PASST, [8, 0, 0])).toEqual({ backend: 'slirp', reason: `auto: ${NO_PASST.reason}` });
    expect(chooseNat(nic(), PASST, [7, 1, 0])).toEqual({ backend: 'slirp', reason: 'auto: QEMU 7.1.0 cannot reach passt (needs 7.2 or newer for -netdev stream)' });
  });

  it('an explicit choice is kept; passt asked for but missing is refused with what to do', () => {
    expect(chooseNat(nic('slirp'), PASST, [7, 2, 0]).backend).toBe('slirp');
    expect(chooseNat(nic('passt'), PASST, [7, 2, 0]).backend).toBe('passt');
    expect(() => chooseNat(nic('passt'), NO_PASST, [7, 2, 0])).toThrow(/NIC net0 asks for passt but passt is not installed.*set its NAT backend to auto or slirp/);
  });

  it('the plan gives passt cards their socket in the runtime folder and leaves other modes out', () => {
    const c = cfg({ networks: [{ id: 'net0', mac: '52:54:00:00:00:01', natBackend: 'passt' }, { id: 'net1', mac: '52:54:00:00:00:02', natBackend: 'slirp' }] });
    expect(natPlan(c, '/run/v/abc', PASST, [7, 2, 0])).toEqual({ net0: { backend: 'passt', socket: '/run/v/abc/nat-net0.sock' }, net1: { backend: 'slirp' } });
    expect(natFiles('/run/v/abc', 'net3')).toEqual({ socket: '/run/v/abc/nat-net3.sock', pidFile: '/run/v/abc/passt-net3.pid' });
  });

  it('a running VM reports the backend it was started with, read from its argv', () => {
    const c = NAT_CASES['nat-passt']!;
    const argv = buildArgv(c.config, contextFor(c));
    expect(runningBackend(argv, 'net0')).toBe('passt');
    expect(runningBackend(argv, 'net1')).toBe('slirp');
    expect(runningBackend(argv, 'net2')).toBeNull();
    // passt vanished since the start: the card still says passt, and why a start would differ.
    const st = natStatus(c.config, NO_PASST, [7, 2, 0], argv);
    expect(st[0]).toMatchObject({ nic: 'net0', backend: 'passt', running: true, reason: expect.stringContaining('started with passt (a start now would pick slirp') });
    expect(st[1]).toMatchObject({ nic: 'net1', backend: 'slirp', running: true, liveChange: expect.stringContaining('hostfwd_add') });
    expect(st[0]!.liveChange).toContain('connections open through this card drop');
  });

  it('passt gets its forwards as -t/-u address/port:guest-port', () => {
    expect(passtForwardArgs([
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 },
      { protocol: 'udp', hostAddress: '0.0.0.0', hostPort: 5353, guestPort: 53 },
    ])).toEqual(['-t', '127.0.0.1/8080:80', '-u', '0.0.0.0/5353:53']);
  });
});

describe('a taken host port', () => {
  it('is refused naming the process that holds it (TCP)', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      const f = { protocol: 'tcp' as const, hostAddress: '127.0.0.1', hostPort: port };
      expect(await tryBind(f)).toBe('EADDRINUSE');
      expect(await portHolder(f)).toEqual({ pid: process.pid, comm: expect.any(String) });
      await expect(assertPortFree(f)).rejects.toMatchObject({ code: 'IN_USE', message: expect.stringContaining(`127.0.0.1:${port}/tcp is in use by process ${process.pid}`) });
      // A wildcard listener holds the port for every address.
      expect(await portHolder({ ...f, hostAddress: '0.0.0.0' })).toMatchObject({ pid: process.pid });
    } finally {
      srv.close();
    }
  });

  it('is refused naming the holder (UDP); a free port passes; a foreign address is refused as such', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    try {
      await expect(assertPortFree({ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: port })).rejects.toMatchObject({ code: 'IN_USE', details: { pid: process.pid } });
    } finally {
      sock.close();
    }
    await expect(assertPortFree({ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: port })).resolves.toBeUndefined();
    await expect(assertPortFree({ protocol: 'tcp', hostAddress: '198.51.100.7', hostPort: 40000 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'hostAddress' } });
  });
});

describe('web callers and forwards', () => {
  it('may bind loopback only; local callers may bind any address', () => {
    expect(isLoopback('127.0.0.1') && isLoopback('127.8.9.1') && isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0') || isLoopback('192.168.1.2') || isLoopback('::')).toBe(false);
    expect(() => checkForwardCaller(webCaller(), { hostAddress: '0.0.0.0' })).toThrow(/only loopback/);
    expect(() => checkForwardCaller(webCaller(), { hostAddress: '127.0.0.1' })).not.toThrow();
    expect(() => checkForwardCaller({ kind: 'local' }, { hostAddress: '0.0.0.0' })).not.toThrow();
  });

  it('a settings change from the web may keep an existing public forward but not add one', () => {
    const fw = (hostAddress: string, hostPort: number) => ({ hostAddress, hostPort, guestPort: 22 });
    const before = cfg({ networks: [{ id: 'net0', mac: '52:54:00:00:00:01', portForwards: [fw('0.0.0.0', 2222)] }] });
    const keep = cfg({ networks: [{ id: 'net0', mac: '52:54:00:00:00:01', portForwards: [fw('0.0.0.0', 2222), fw('127.0.0.1', 2223)] }] });
    const add = cfg({ networks: [{ id: 'net0', mac: '52:54:00:00:00:01', portForwards: [fw('0.0.0.0', 2222), fw('0.0.0.0', 2224)] }] });
    expect(() => checkForwardsCaller(webCaller(), before, keep)).not.toThrow();
    expect(() => checkForwardsCaller(webCaller(), before, add)).toThrow(/0\.0\.0\.0/);
  });
});

describe('vireo net forward spec', () => {
  it('parses protocol, host address and ports with defaults', () => {
    expect(parseForwardSpec('tcp:127.0.0.1:8080:80')).toEqual({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 });
    expect(parseForwardSpec('udp:5353:53')).toEqual({ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 5353, guestPort: 53 });
    expect(parseForwardSpec('2222:22')).toEqual({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 });
    expect(parseForwardSpec('tcp:[::1]:8080:80')).toMatchObject({ hostAddress: '::1', hostPort: 8080 });
    expect(parseForwardSpec('tcp:0.0.0.0:8080', false)).toMatchObject({ hostAddress: '0.0.0.0', hostPort: 8080 });
  });

  it('refuses a malformed spec as a usage error (exit 2)', () => {
    for (const bad of ['8080', 'tcp:1.2.3.4:70000:80', 'sctp:1:2', 'tcp:a:b:c:d']) {
      expect(() => parseForwardSpec(bad)).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });
});
