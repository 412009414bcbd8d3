import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import { webCaller } from '../../electron/engine/policy/confine.ts';
import { createGuestVm, disposeEngine, tempEngine } from './helpers.ts';

// Host paths a web caller names for agent copies pass the confinement before anything else
// (no guest needed: the policy refuses first); a local caller passes and meets the agent check.

let engine: Engine;
let media: string;
let vmId: string;

beforeAll(async () => {
  engine = await tempEngine();
  media = mkdtempSync(join(tmpdir(), 'vireo-agent-media-'));
  vmId = (await createGuestVm(engine, 'agent-confine', { iso: null, disk: '16M' })).id;
}, 60_000);

afterAll(async () => {
  await disposeEngine(engine);
  rmSync(media, { recursive: true, force: true });
});

describe('agent copies and the web confinement', () => {
  const web = () => webCaller({ media: [media] });

  it('refuses a web caller copying a host file from outside its roots into the guest', async () => {
    const r = await engine.dispatch('agent.copyIn', { vm: vmId, hostPath: '/etc/passwd', guestPath: '/tmp/p' }, web());
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/\/etc\/passwd/);
    expect(!r.ok && r.error.code).not.toBe('AGENT_UNAVAILABLE');
  });

  it('refuses a web caller writing a guest file outside its roots, or over an existing file inside them', async () => {
    const out = await engine.dispatch('agent.copyOut', { vm: vmId, guestPath: '/etc/hostname', hostPath: '/tmp/vireo-agent-escape' }, web());
    expect(out.ok).toBe(false);
    expect(existsSync('/tmp/vireo-agent-escape')).toBe(false);
    const kept = join(media, 'disk.qcow2');
    writeFileSync(kept, 'precious');
    const over = await engine.dispatch('agent.copyOut', { vm: vmId, guestPath: '/etc/hostname', hostPath: kept }, web());
    expect(over.ok).toBe(false);
    expect(!over.ok && over.error.code).toBe('ALREADY_EXISTS');
    expect(readFileSync(kept, 'utf8')).toBe('precious');
  });

  it('lets a web caller name a file inside its roots, and then says the agent is absent', async () => {
    const f = join(media, 'in.txt');
    writeFileSync(f, 'x');
    const r = await engine.dispatch('agent.copyIn', { vm: vmId, hostPath: f, guestPath: '/tmp/in.txt' }, web());
    expect(!r.ok && r.error.code).toBe('AGENT_UNAVAILABLE');
    expect(!r.ok && r.error.message).toMatch(/the VM is not running/);
  });
});
