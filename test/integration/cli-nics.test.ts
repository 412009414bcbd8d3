import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVireo } from './cli-helpers.ts';

// `vireo net ls|add|rm|link|modes` and `vireo ip` as a user types them, on a stopped VM (the
// real CLI owning a temp library; no guest boots): cards of each mode are added with their
// fields, refused with exit 2 on bad input, removed, and listed as JSON.

let home: string;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'vireo-cli-nics-'));
  const r = await runVireo(home, ['create', 'nics', '--disk', '16M']);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

const json = async (args: string[]) => {
  const r = await runVireo(home, ['--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

describe('vireo net and vireo ip', () => {
  it('adds cards of every mode with their fields, lists them, removes one', async () => {
    await json(['net', 'add', 'nics', '--mode', 'private', '--network', 'lab']);
    await json(['net', 'add', 'nics', '--mode', 'hostonly', '--host-port', '8080', '--host-port', '5432']);
    await json(['net', 'add', 'nics', '--mode', 'bridged', '--bridge', 'br0']);
    const nics = await json(['net', 'add', 'nics', '--mode', 'none', '--model', 'e1000']);
    expect(nics.map((n: { id: string; mode: string }) => [n.id, n.mode])).toEqual([['net0', 'user'], ['net1', 'private'], ['net2', 'hostonly'], ['net3', 'bridged'], ['net4', 'none']]);
    expect(nics[1]).toMatchObject({ network: 'lab' });
    expect(nics[2]).toMatchObject({ hostPorts: [8080, 5432] });
    expect(nics[3]).toMatchObject({ bridge: 'br0' });
    expect(nics[4]).toMatchObject({ model: 'e1000' });
    expect(new Set(nics.map((n: { mac: string }) => n.mac)).size).toBe(5);
    const human = await runVireo(home, ['net', 'ls', 'nics']);
    expect(human.stdout).toMatch(/net1\s+private "lab"/);
    expect(human.stdout).toMatch(/net2\s+host-only \(host ports 8080, 5432\)/);
    expect(human.stdout).toMatch(/net3\s+bridged to br0/);
    const after = await json(['net', 'rm', 'nics', 'net3']);
    expect(after.map((n: { id: string }) => n.id)).toEqual(['net0', 'net1', 'net2', 'net4']);
  }, 120_000);

  it('refuses bad input with a clear message and the right exit code', async () => {
    const badMode = await runVireo(home, ['net', 'add', 'nics', '--mode', 'wifi']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain('--mode must be one of user, private, hostonly, bridged, none');
    const noBridge = await runVireo(home, ['--json', 'net', 'add', 'nics', '--mode', 'bridged']);
    expect(noBridge.code).toBe(1);
    expect(JSON.parse(noBridge.stderr)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('is bridged but names no bridge') });
    const badName = await runVireo(home, ['net', 'add', 'nics', '--mode', 'private', '--network', '../x']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('network name');
    const rm = await runVireo(home, ['net', 'rm', 'nics', 'net9']);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toContain('has no card net9');
    const link = await runVireo(home, ['net', 'link', 'nics', 'net0', 'sideways']);
    expect(link.code).toBe(2);
    const stopped = await runVireo(home, ['--json', 'net', 'link', 'nics', 'net0', 'down']);
    expect(stopped.code).toBe(1);
    expect(JSON.parse(stopped.stderr)).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('is not running') });
    // nothing half-done: the cards are as before
    expect((await json(['net', 'ls', 'nics'])).map((n: { id: string }) => n.id)).toEqual(['net0', 'net1', 'net2', 'net4']);
  }, 120_000);

  it('vireo ip says per card that the VM is not running; vireo net modes says how each mode works here', async () => {
    const ip = await json(['ip', 'nics']);
    expect(ip.map((a: { nic: string; source: string; note: string }) => [a.nic, a.source, a.note])).toEqual([
      ['net0', 'none', 'the VM is not running'], ['net1', 'none', 'the VM is not running'], ['net2', 'none', 'the VM is not running'], ['net4', 'none', 'the VM is not running'],
    ]);
    const modes = await json(['net', 'modes']);
    expect(modes.modes.map((m: { mode: string }) => m.mode)).toEqual(['user', 'private', 'hostonly', 'bridged', 'none']);
    expect(modes.modes.find((m: { mode: string }) => m.mode === 'hostonly').how).toContain('restrict=on');
    const human = await runVireo(home, ['net', 'modes', '--bridge', 'vireo-no-such-br']);
    expect(human.stdout).toMatch(/bridged\s+no\s+bridging to "vireo-no-such-br" needs: .*there is no bridge "vireo-no-such-br"/);
  }, 120_000);
});
