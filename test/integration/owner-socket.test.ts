import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { ownerSocketPath, runtimeRoot } from '../../electron/engine/paths.ts';
import { OWNER_MAX_FRAME_BYTES, connectOwner, isRetryable } from '../../electron/api/socket-client.ts';
import { VireoError } from '../../electron/api/errors.ts';

// The owner's socket from the outside: raw frames as a misbehaving local process would send
// them. Malformed frames get BAD_REQUEST and never take the owner down; events reach clients;
// an owner that leaves tells its clients which calls it never ran.

let engine: Engine;
let sock: string;
beforeAll(async () => {
  engine = await createEngine({ home: mkdtempSync(join(tmpdir(), 'vireo-osock-')) });
  sock = ownerSocketPath(runtimeRoot(engine.home), engine.home);
});
afterAll(async () => {
  await engine.dispose();
  rmSync(engine.home, { recursive: true, force: true });
});

/** A raw connection: frames in, frames out. */
async function raw(): Promise<{ s: Socket; next: () => Promise<Record<string, unknown>>; closed: Promise<void> }> {
  const s = createConnection(sock);
  const queue: Record<string, unknown>[] = [];
  const waiters: ((f: Record<string, unknown>) => void)[] = [];
  createInterface({ input: s }).on('line', (l) => {
    const f = JSON.parse(l) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(f);
    else queue.push(f);
  });
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.on('error', () => {});
  const next = () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise<Record<string, unknown>>((r) => waiters.push(r)));
  expect(await next()).toMatchObject({ hello: { pid: process.pid, role: 'engine' } });
  return { s, next, closed };
}

describe('owner socket', () => {
  it('answers malformed frames with BAD_REQUEST and keeps the connection', async () => {
    const { s, next } = await raw();
    const bad = ['not json', '[1,2]', '{"method":"vms.list"}', '{"id":{},"method":"vms.list"}', `{"id":"${'x'.repeat(65)}","method":"vms.list"}`, 'null', '{"id":1}'];
    for (const frame of bad) {
      s.write(frame + '\n');
      expect(await next(), frame).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    s.write('{"id":2,"method":"no.such"}\n');
    expect(await next()).toMatchObject({ id: 2, error: { code: 'UNKNOWN_METHOD' } });
    s.write('{"id":3,"method":"vms.get","args":{"vm":{"__proto__":{"x":1}}}}\n');
    expect(await next()).toMatchObject({ id: 3, error: { code: 'INVALID_ARGUMENT' } });
    s.write('{"id":"last","method":"vms.list","args":{}}\n');
    expect(await next()).toEqual({ id: 'last', result: [] });
    s.destroy();
  });

  it('carries the caller of a transport in front of a client: a web caller stays confined', async () => {
    const roots = [mkdtempSync(join(tmpdir(), 'vireo-osock-media-'))];
    const web = { kind: 'web' as const, roots, allowExtraArgs: false };
    const c = await connectOwner(sock);
    // The client itself is local (same user): it may list any folder.
    expect((await c.dispatch('files.list', { dir: '/' })).ok).toBe(true);
    expect(await c.dispatch('files.list', { dir: '/' }, web)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/outside the folders/) } });
    c.close();
    const { s, next } = await raw();
    for (const caller of [{ kind: 'root' }, { kind: 'web', roots: ['relative'], allowExtraArgs: false }, { kind: 'web', roots }, 'local']) {
      s.write(JSON.stringify({ id: 9, method: 'files.list', args: { dir: '/' }, caller }) + '\n');
      expect(await next(), JSON.stringify(caller)).toMatchObject({ id: 9, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/"caller"/) } });
    }
    s.destroy();
    rmSync(roots[0]!, { recursive: true, force: true });
  });

  it('an oversized frame gets BAD_REQUEST and its connection closed; the owner serves on', async () => {
    const { s, next, closed } = await raw();
    s.write('{"id":1,"method":"vms.list","args":{"pad":"' + 'a'.repeat(OWNER_MAX_FRAME_BYTES + 10));
    expect(await next()).toMatchObject({ id: null, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/larger than/) } });
    await closed;
    const c = await connectOwner(sock);
    expect(await c.call('vms.list', {})).toEqual([]);
    c.close();
  });

  it('forwards events to clients', async () => {
    const c = await connectOwner(sock);
    const changed = new Promise<{ id: string }>((r) => c.on('vm.changed', r));
    const vm = await engine.client.call('vms.create', { name: 'evented', memory: '32M', cpus: 1, disk: '16M' });
    expect((await changed).id).toBe(vm.id);
    c.close();
  });

  it('an owner that leaves lets answers it owes go out, then says which calls it never ran', async () => {
    const h = mkdtempSync(join(tmpdir(), 'vireo-osock-bye-'));
    const e2 = await createEngine({ home: h });
    const c = await connectOwner(ownerSocketPath(runtimeRoot(h), h));
    const created = c.call('vms.create', { name: 'in-flight', memory: '32M', cpus: 1, disk: '16M' });
    // Wait until the owner has read the call (the create job is running), then leave.
    await new Promise<void>((r) => e2.bus.on('job.update', () => r()));
    const leaving = e2.dispose();
    expect((await created).name).toBe('in-flight');
    await leaving;
    const after = await c.call('vms.list', {}).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(VireoError);
    expect(isRetryable(after)).toBe(true);
    await c.closed;
    rmSync(h, { recursive: true, force: true });
  });
});
