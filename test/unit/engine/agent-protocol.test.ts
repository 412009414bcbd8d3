import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentConnection, AgentError } from '../../../electron/engine/agent/protocol.ts';
import { VireoError } from '../../../electron/api/errors.ts';

// The agent protocol's framing on a real unix socket pair. The far end plays qemu-ga by its
// documented wire rules (newline-delimited JSON; 0xFF resets its parser; guest-sync-delimited
// answers with 0xFF before the reply), and the tests put in what a real channel holds after a
// guest reboot or a late reply: stale lines, half a line, garbage.

type Handler = (cmd: { execute: string; arguments?: Record<string, unknown> }, sock: Socket) => void;

let dir: string;
let server: Server | null = null;
let conn: AgentConnection | null = null;
const got: string[] = [];
/** sync replies with foreign ids the fake sends before the real one (a new agent answering syncs queued in the stream) */
let staleSyncs = 0;

async function fakeAgent(handle: Handler, onConnect?: (s: Socket) => void): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'vireo-agent-'));
  const path = join(dir, 'agent.sock');
  server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    onConnect?.(sock);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const ff = buf.lastIndexOf(0xff);
      if (ff >= 0) buf = buf.subarray(ff + 1); // qemu-ga: 0xFF resets the parser
      let nl: number;
      while ((nl = buf.indexOf(0x0a)) >= 0) {
        const line = buf.subarray(0, nl).toString();
        buf = buf.subarray(nl + 1);
        const cmd = JSON.parse(line) as { execute: string; arguments?: Record<string, unknown> };
        got.push(cmd.execute);
        for (; cmd.execute === 'guest-sync-delimited' && staleSyncs > 0; staleSyncs--) sock.write(Buffer.from([0xff, ...Buffer.from('{"return": 4242}\n{"return": "stale"}\n')]));
        if (cmd.execute === 'guest-sync-delimited') sock.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ return: cmd.arguments!.id }) + '\n')]));
        else handle(cmd, sock);
      }
    });
  });
  await new Promise<void>((r) => server!.listen(path, r));
  return path;
}

const reply = (sock: Socket, value: unknown) => sock.write(JSON.stringify({ return: value }) + '\n');

afterEach(async () => {
  conn?.close();
  conn = null;
  got.length = 0;
  staleSyncs = 0;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('agent protocol', () => {
  it('syncs before the first call and drops what was in the channel before the sentinel', async () => {
    const path = await fakeAgent(
      (cmd, sock) => reply(sock, { version: '7.2.22', asked: cmd.execute }),
      // What a reused channel holds: a reply meant for an earlier client, half a line, garbage.
      (sock) => sock.write('{"return": {"version": "stale"}}\n{"return": {"vers'),
    );
    conn = await AgentConnection.connect(path);
    await expect(conn.call('guest-info')).resolves.toEqual({ version: '7.2.22', asked: 'guest-info' });
    expect(got).toEqual(['guest-sync-delimited', 'guest-info']);
    // in step now: the next call goes without a sync
    await conn.call('guest-ping');
    expect(got).toEqual(['guest-sync-delimited', 'guest-info', 'guest-ping']);
  });

  it('after a timeout, the late reply is not taken for the next call', async () => {
    const path = await fakeAgent((cmd, sock) => {
      if (cmd.execute === 'slow') setTimeout(() => reply(sock, 'late answer to slow'), 300);
      else reply(sock, `answer to ${cmd.execute}`);
    });
    conn = await AgentConnection.connect(path);
    const err = await conn.call('slow', undefined, { timeoutMs: 100 }).catch((e: VireoError) => e);
    expect(err).toBeInstanceOf(VireoError);
    expect((err as VireoError).code).toBe('TIMEOUT');
    await new Promise((r) => setTimeout(r, 400)); // the late reply is now in our buffer
    await expect(conn.call('fast')).resolves.toBe('answer to fast');
    // it resynced in between
    expect(got.filter((c) => c === 'guest-sync-delimited')).toHaveLength(2);
  });

  it('an agent error becomes AGENT_ERROR with its class and description', async () => {
    const path = await fakeAgent((_cmd, sock) => sock.write(JSON.stringify({ error: { class: 'GenericError', desc: 'failed to open file /nope: No such file or directory' } }) + '\n'));
    conn = await AgentConnection.connect(path);
    const err = (await conn.call('guest-file-open', { path: '/nope', mode: 'r' }).catch((e) => e)) as AgentError;
    expect(err).toBeInstanceOf(AgentError);
    expect(err.code).toBe('AGENT_ERROR');
    expect(err.errorClass).toBe('GenericError');
    expect(err.message).toContain('guest-file-open');
    expect(err.message).toContain('No such file');
  });

  it('rejects the call in flight and the queued ones when the channel closes', async () => {
    const path = await fakeAgent((cmd, sock) => cmd.execute === 'hang' && setTimeout(() => sock.destroy(), 50));
    conn = await AgentConnection.connect(path);
    const a = conn.call('hang', undefined, { timeoutMs: 5000 }).catch((e: VireoError) => e.code);
    const b = conn.call('queued', undefined, { timeoutMs: 5000 }).catch((e: VireoError) => e.code);
    expect(await a).toBe('AGENT_UNAVAILABLE');
    expect(await b).toBe('AGENT_UNAVAILABLE');
    expect(conn.closed).toBe(true);
  });

  it('resyncs with a new agent on the same channel (guest reboot): old sync replies do not count', async () => {
    let restarted = false;
    const path = await fakeAgent((cmd, sock) => {
      if (cmd.execute === 'guest-info') reply(sock, restarted ? 'new agent' : 'old agent');
    });
    conn = await AgentConnection.connect(path);
    await expect(conn.call('guest-info')).resolves.toBe('old agent');
    // The guest rebooted: the new agent first emits answers to syncs it read from the stream
    // (random ids of earlier attempts), then ours.
    restarted = true;
    staleSyncs = 2;
    conn.desync();
    await expect(conn.call('guest-info')).resolves.toBe('new agent');
  });

  it('a sync nobody answers says no agent is there', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vireo-agent-'));
    const path = join(dir, 'agent.sock');
    // QEMU's chardev with no agent behind the port: it accepts and never answers.
    server = createServer((s) => void s.resume());
    await new Promise<void>((r) => server!.listen(path, r));
    conn = await AgentConnection.connect(path);
    const err = (await conn.sync(200).catch((e) => e)) as VireoError;
    expect(err.code).toBe('AGENT_UNAVAILABLE');
    expect(err.message).toMatch(/no guest agent answered within 200 ms/);
  });

  it('a command that answers only on failure (guest-shutdown) resolves after silence, and rejects on an error reply', async () => {
    let refuse = false;
    const path = await fakeAgent((_cmd, sock) => refuse && sock.write(JSON.stringify({ error: { class: 'GenericError', desc: 'shutdown failed' } }) + '\n'));
    conn = await AgentConnection.connect(path);
    await expect(conn.call('guest-shutdown', { mode: 'powerdown' }, { timeoutMs: 100, noReplyOnSuccess: true })).resolves.toBeUndefined();
    refuse = true;
    await expect(conn.call('guest-shutdown', { mode: 'powerdown' }, { timeoutMs: 1000, noReplyOnSuccess: true })).rejects.toBeInstanceOf(AgentError);
  });

  it('refuses to connect to a socket that is not there, with AGENT_UNAVAILABLE', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vireo-agent-'));
    const err = (await AgentConnection.connect(join(dir, 'missing.sock')).catch((e) => e)) as VireoError;
    expect(err.code).toBe('AGENT_UNAVAILABLE');
    expect(err.message).toContain('missing.sock');
  });
});
