import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VireoError } from '../../electron/api/errors.ts';
import { QmpClient, QmpError, type QmpEvent, type QmpProtocolIssue } from '../../electron/engine/qmp/client.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Real QEMU, paused at -S with no guest: QMP is fully alive without anything to boot.

interface Qemu {
  proc: ChildProcess;
  sock: string;
  dir: string;
  exited: Promise<void>;
}

const live: Qemu[] = [];
const clients: QmpClient[] = [];
const servers: Server[] = [];
const dirs: string[] = [];

function shortDir(): string {
  // Unix socket paths are limited to ~108 bytes; os.tmpdir() may be long.
  const d = mkdtempSync('/tmp/vq-');
  dirs.push(d);
  return d;
}

function startQemu(extra: string[] = [], dir = shortDir()): Qemu {
  const sock = join(dir, 'qmp.sock');
  const proc = spawn(
    'qemu-system-x86_64',
    ['-S', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-m', '64', '-qmp', `unix:${sock},server=on,wait=off`, ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'], shell: false },
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const q = { proc, sock, dir, exited };
  live.push(q);
  return q;
}

async function connect(q: Qemu, opts: { timeoutMs?: number } = {}): Promise<QmpClient> {
  const c = await QmpClient.connect(q.sock, { retryUntilMs: 15_000, ...opts });
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<VireoError> {
  try {
    await p;
  } catch (e) {
    return e as VireoError;
  }
  throw new Error('expected a rejection');
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const q of live.splice(0)) {
    if (q.proc.exitCode === null && q.proc.signalCode === null) q.proc.kill('SIGKILL');
    await q.exited;
  }
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('QmpClient against QEMU', () => {
  it('retries until the socket appears, reads the greeting and negotiates', async () => {
    const dir = shortDir();
    // Connect first: the socket does not exist yet, so the client has to wait for it.
    const pending = QmpClient.connect(join(dir, 'qmp.sock'), { retryUntilMs: 15_000 });
    await new Promise((r) => setTimeout(r, 300));
    startQemu([], dir);
    const c = await pending;
    clients.push(c);
    expect(c.greeting.version.qemu.major).toBeGreaterThanOrEqual(7);
    expect(Array.isArray(c.greeting.capabilities)).toBe(true);
    // Commands only work after qmp_capabilities; this proves negotiation happened.
    const st = await c.execute<{ status: string; running: boolean }>('query-status');
    expect(st).toMatchObject({ status: 'prelaunch', running: false });
  });

  it('fails fast when no socket appears and retrying is not asked for', async () => {
    const err = await rejection(QmpClient.connect(join(shortDir(), 'none.sock')));
    expect(err.code).toBe('QMP_DISCONNECTED');
    expect(err.message).toContain('none.sock');
  });

  it('routes 20 concurrent replies by id', async () => {
    const c = await connect(startQemu(['-name', 'vq-concurrency']));
    const calls = Array.from({ length: 20 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return c.execute<{ status: string }>('query-status').then((r) => ['status', r.status]);
        case 1:
          return c.execute<{ name: string }>('query-name').then((r) => ['name', r.name]);
        case 2:
          return c.execute<{ qemu: { major: number } }>('query-version').then((r) => ['version', r.qemu.major]);
        default:
          return c.execute<Array<{ name: string }>>('query-commands').then((r) => ['commands', r.some((x) => x.name === 'query-status')]);
      }
    });
    const got = await Promise.all(calls);
    got.forEach(([kind, value], i) => {
      const want = [
        ['status', 'prelaunch'],
        ['name', 'vq-concurrency'],
        ['version', c.greeting.version.qemu.major],
        ['commands', true],
      ][i % 4];
      expect([kind, value]).toEqual(want);
    });
  });

  it('rejects QMP errors as QmpError with their class', async () => {
    const c = await connect(startQemu());
    const notFound = await rejection(c.execute('no-such-command-vireo'));
    expect(notFound).toBeInstanceOf(QmpError);
    expect(notFound.code).toBe('QMP_ERROR');
    expect((notFound as QmpError).errorClass).toBe('CommandNotFound');
    expect(notFound.details).toMatchObject({ command: 'no-such-command-vireo', errorClass: 'CommandNotFound' });

    const badArg = (await rejection(c.execute('device_del', { id: 'nonexistent-dev' }))) as QmpError;
    expect(badArg.code).toBe('QMP_ERROR');
    expect(['DeviceNotFound', 'GenericError']).toContain(badArg.errorClass);
    expect(badArg.message).toContain('nonexistent-dev');

    const wrongType = (await rejection(c.execute('query-status', { bogus: 1 }))) as QmpError;
    expect(wrongType.errorClass).toBe('GenericError');
    // The connection is still usable after errors.
    expect(await c.execute('query-status')).toMatchObject({ running: false });
  });

  it('emits STOP, RESUME and RESET events', async () => {
    const c = await connect(startQemu());
    const seen: QmpEvent[] = [];
    c.on('event', (e) => seen.push(e));
    const resumed = c.waitForEvent('RESUME', undefined, 10_000);
    await c.execute('cont');
    const resume = await resumed;
    expect(resume.timestamp.seconds).toBeGreaterThan(1_600_000_000);

    const stopped = c.waitForEvent('STOP', undefined, 10_000);
    await c.execute('stop');
    await stopped;

    const reset = c.waitForEvent('RESET', (e) => (e.data as { guest?: boolean }).guest === false, 10_000);
    await c.execute('system_reset');
    expect((await reset).data).toMatchObject({ guest: false });
    expect(seen.map((e) => e.event)).toEqual(expect.arrayContaining(['RESUME', 'STOP', 'RESET']));
  });

  it('waitForEvent times out and rejects on disconnect', async () => {
    const q = startQemu();
    const c = await connect(q);
    const timeout = await rejection(c.waitForEvent('SHUTDOWN', undefined, 200));
    expect(timeout.code).toBe('TIMEOUT');
    const waiting = rejection(c.waitForEvent('NEVER_HAPPENS', undefined, 30_000));
    q.proc.kill('SIGKILL');
    expect((await waiting).code).toBe('QMP_DISCONNECTED');
  });

  it('rejects pending calls with QMP_DISCONNECTED when QEMU dies, and later calls at once', async () => {
    const q = startQemu();
    const c = await connect(q);
    const closed = new Promise((r) => c.once('close', r));
    // SIGSTOP freezes QEMU so the calls below are certainly unanswered when SIGKILL lands.
    q.proc.kill('SIGSTOP');
    const pending = Array.from({ length: 10 }, () => rejection(c.execute('query-status')));
    await new Promise((r) => setTimeout(r, 100));
    q.proc.kill('SIGKILL');
    const errs = await Promise.all(pending);
    await closed;
    await q.exited;
    expect(errs.map((e) => e.code)).toEqual(Array(10).fill('QMP_DISCONNECTED'));
    expect(errs[0]!.message).toContain('query-status');
    expect(c.closed).toBe(true);
    const after = await rejection(c.execute('query-status'));
    expect(after.code).toBe('QMP_DISCONNECTED');
  });

  it('close() rejects pending calls and leaves QEMU running', async () => {
    const q = startQemu();
    const c = await connect(q);
    const closeInfo = new Promise((r) => c.once('close', r));
    const p = rejection(c.execute('query-status'));
    c.close();
    expect((await p).code).toBe('QMP_DISCONNECTED');
    expect(await closeInfo).toMatchObject({ reason: 'closed' });
    expect(q.proc.exitCode).toBeNull();
    // A new client can attach to the same QEMU (how a restarted engine re-attaches).
    const again = await connect(q);
    expect(await again.execute('query-status')).toMatchObject({ status: 'prelaunch' });
  });

  it('times out a call that gets no reply, as TIMEOUT, and stays usable', async () => {
    // snapshot-save with a huge RAM save is not needed: a fake server that never answers.
    const dir = shortDir();
    const path = join(dir, 'fake.sock');
    const peers: Socket[] = [];
    const server = createServer((s) => {
      peers.push(s);
      s.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n');
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const m = JSON.parse(buf.slice(0, nl)) as { execute: string; id: string };
          buf = buf.slice(nl + 1);
          if (m.execute === 'qmp_capabilities') s.write(JSON.stringify({ return: {}, id: m.id }) + '\r\n');
          if (m.execute === 'slow') setTimeout(() => s.write(JSON.stringify({ return: 'late', id: m.id }) + '\r\n'), 400);
          if (m.execute === 'fast') {
            // Several messages and a torn one in odd chunks, plus junk that must be reported.
            const out =
              '{"event": "X", "data": {"n": 1}, "timestamp": {"seconds": 1, "microseconds": 2}}\r\nnot json\r\n' +
              JSON.stringify({ return: 'ok', id: m.id }) + '\r\n';
            for (let i = 0; i < out.length; i += 7) s.write(out.slice(i, i + 7));
          }
        }
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    const c = await QmpClient.connect(path);
    clients.push(c);
    expect(c.greeting.capabilities).toEqual(['oob']);
    const issues: QmpProtocolIssue[] = [];
    c.on('protocolError', (i) => issues.push(i));
    const events: QmpEvent[] = [];
    c.on('event', (e) => events.push(e));

    const t = await rejection(c.execute('slow', undefined, { timeoutMs: 100 }));
    expect(t.code).toBe('TIMEOUT');
    expect(t.message).toContain('slow');
    expect(await c.execute('fast')).toBe('ok');
    expect(events).toEqual([{ event: 'X', data: { n: 1 }, timestamp: { seconds: 1, microseconds: 2 } }]);
    await new Promise((r) => setTimeout(r, 500));
    // The late reply to the timed-out call is dropped quietly; the junk line is reported.
    expect(issues.map((i) => i.line)).toEqual(['not json\r']);
    for (const p of peers) p.destroy();
  });

  it('times out connect when the peer never greets', async () => {
    const dir = shortDir();
    const path = join(dir, 'mute.sock');
    const peers: Socket[] = [];
    const server = createServer((s) => peers.push(s));
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    const err = await rejection(QmpClient.connect(path, { timeoutMs: 300 }));
    expect(err.code).toBe('TIMEOUT');
    for (const p of peers) p.destroy();
  });

  it('runs snapshot-save / snapshot-delete as jobs with progress and dismisses them', async () => {
    const dir = shortDir();
    const disk = join(dir, 'd.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    const q = startQemu(
      ['-blockdev', `driver=file,filename=${disk},node-name=f0`, '-blockdev', 'driver=qcow2,file=f0,node-name=d0'],
      dir,
    );
    const c = await connect(q);
    const statuses: string[] = [];
    c.on('event', (e) => {
      if (e.event === 'JOB_STATUS_CHANGE') statuses.push((e.data as { status: string }).status);
    });
    const fractions: number[] = [];
    const job = await c.runJob(
      'snapshot-save',
      { tag: 'first', vmstate: 'd0', devices: ['d0'] },
      { jobId: 'save-1', onProgress: (f) => fractions.push(f), timeoutMs: 60_000 },
    );
    expect(job).toMatchObject({ id: 'save-1', type: 'snapshot-save', status: 'concluded' });
    expect(job.error).toBeUndefined();
    expect(statuses).toContain('concluded');
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f) => f >= 0 && f <= 1)).toBe(true);
    // Dismissed: nothing is left in query-jobs.
    expect(await c.execute('query-jobs')).toEqual([]);

    const nodes = await c.execute<Array<{ 'node-name': string; image: { snapshots?: Array<{ name: string }> } }>>('query-named-block-nodes');
    expect(nodes.find((n) => n['node-name'] === 'd0')?.image.snapshots?.map((s) => s.name)).toEqual(['first']);

    // A failing job: the same tag again is refused by the job, not by the command.
    const failed = (await rejection(
      c.runJob('snapshot-save', { tag: 'first', vmstate: 'd0', devices: ['d0'] }, { jobId: 'save-2' }),
    )) as QmpError;
    expect(failed).toBeInstanceOf(QmpError);
    expect(failed.errorClass).toBe('JobFailed');
    expect(failed.message).toContain('first');
    expect(await c.execute('query-jobs')).toEqual([]);

    await c.runJob('snapshot-delete', { tag: 'first', devices: ['d0'] }, { jobId: 'del-1' });
    c.close();
    q.proc.kill('SIGKILL');
    await q.exited;
    const { stdout } = await run('qemu-img', ['info', '--output=json', disk]);
    expect((JSON.parse(stdout) as { snapshots?: unknown[] }).snapshots ?? []).toEqual([]);
  });

  it('runJob honours an already-aborted signal and a missing-job-id command error', async () => {
    const c = await connect(startQemu());
    const ac = new AbortController();
    ac.abort();
    const cancelled = await rejection(c.runJob('snapshot-save', { tag: 'x', vmstate: 'none', devices: [] }, { jobId: 'j', signal: ac.signal }));
    expect(cancelled.code).toBe('CANCELLED');
    // No such block node: the command itself is refused with a QMP error class.
    const refused = (await rejection(c.runJob('snapshot-save', { tag: 'x', vmstate: 'none', devices: ['none'] }, { jobId: 'j2' }))) as QmpError;
    expect(refused.code).toBe('QMP_ERROR');
    expect(await c.execute('query-jobs')).toEqual([]);
  });

  it('reports junk and replies to unknown ids without failing calls', async () => {
    const dir = shortDir();
    const path = join(dir, 'junk.sock');
    const server = createServer((s) => {
      s.write('{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": ""}, "capabilities": []}}\n');
      s.on('data', (d) => {
        for (const line of d.toString().split('\n').filter(Boolean)) {
          const m = JSON.parse(line) as { execute: string; id: string };
          if (m.execute === 'ping') s.write('[1,2]\n' + JSON.stringify({ return: {}, id: 'stranger' }) + '\n');
          s.write(JSON.stringify({ return: { echo: m.execute }, id: m.id }) + '\n');
        }
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    const c = await QmpClient.connect(path);
    clients.push(c);
    const issues: QmpProtocolIssue[] = [];
    c.on('protocolError', (i) => issues.push(i));
    expect(await c.execute('ping')).toEqual({ echo: 'ping' });
    expect(issues.map((i) => i.problem)).toEqual(['not a JSON object', 'reply with an unknown id']);
  });
});
