import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { startServer, type RunningServer, MAX_FRAME_BYTES } from '../../electron/server/server.ts';
import { METHOD_NAMES } from '../../electron/api/contract.ts';
import { ERROR_CODES } from '../../electron/api/errors.ts';
import { fuzzInputs, keysOf, prng, type FuzzFiles } from './fuzz-ws-inputs.ts';
import { rawExchange } from './net-helpers.ts';

/** Raw bytes to the server; what came back until it closed (or 3 s passed). */
const raw = (bytes: Buffer) => rawExchange(bytes, server.port, '127.0.0.1', { lenient: true });

// A bounded, seeded fuzzer over the real WebSocket transport of `vireo serve` with the real
// engine on a temp library: every contract method with invalid, oversized, unicode and
// prototype-pollution arguments, then malformed frames and malformed upgrades. Findings:
// a crash (the server stops answering host.info), an untyped error (a code outside
// ERROR_CODES, or INTERNAL: a handler let an unexpected exception through), a hang (no answer
// within CALL_BOUND_MS). Re-run a failure with VIREO_FUZZ_SEED=<seed printed below>.
//
// Nothing here may touch the host outside the temp folder: every path argument is absolute
// inside it, with hostile file names but never a separator or "..". One guest runs, in the
// second round only: the target VM (64 MiB, no OS: the firmware idles) so that the methods of
// a running VM reach QEMU; vms.create never gets start: true, and a graceful vms.stop gets a
// 2 s timeout (the idle firmware ignores ACPI, and the default would wait 60 s).

const SEED = Number(process.env.VIREO_FUZZ_SEED ?? 0x5eed_2026);
const VARIANTS = Number(process.env.VIREO_FUZZ_VARIANTS ?? 50);
/** per method with a `vm` argument, while the target VM runs */
const RUNNING_VARIANTS = Number(process.env.VIREO_FUZZ_RUNNING_VARIANTS ?? 14);
const CALL_BOUND_MS = 30_000;
const TOKEN = 'fuzz-token-0123456789abcdef';

let engine: Engine;
let server: RunningServer;
let tmp: string;
let files: FuzzFiles;
let inputs: ReturnType<typeof fuzzInputs>;
/** for the frame and upgrade rounds (the argument inputs have their own stream) */
const rnd = prng(SEED ^ 0x9e3779b9);

interface Finding {
  kind: 'untyped' | 'internal' | 'hang' | 'crash' | 'bad-status';
  what: string;
  detail: string;
}
const findings: Finding[] = [];
const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);

/** One request in flight at a time, so the next reply (whatever its id) answers it. */
class Client {
  private ws!: WebSocket;
  private pending: ((m: Record<string, unknown>) => void) | null = null;

  async connect(): Promise<void> {
    this.ws = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${TOKEN}`, { maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
    this.ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (m.event) return;
      const p = this.pending;
      this.pending = null;
      p?.(m);
    });
    this.ws.on('close', (code) => {
      const p = this.pending;
      this.pending = null;
      p?.({ closed: code });
    });
    this.ws.on('error', () => {});
  }

  /** Send one frame; its reply, `{closed: code}` if the server closed instead, or null after the bound (a hang). */
  async send(frame: string | Buffer): Promise<Record<string, unknown> | null> {
    if (this.ws?.readyState !== WebSocket.OPEN) await this.connect();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = null;
        resolve(null);
      }, CALL_BOUND_MS);
      this.pending = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.ws.send(frame, { binary: Buffer.isBuffer(frame) });
    });
  }

  close() {
    this.ws?.close();
  }
}

/** Records a finding unless the reply is a result or an error with a typed, non-INTERNAL code. */
function judge(what: string, reply: Record<string, unknown> | null, frameBytes = 0) {
  if (reply === null) return findings.push({ kind: 'hang', what, detail: `no answer within ${CALL_BOUND_MS} ms` });
  if ('result' in reply) return;
  // An oversized frame is refused by closing with 1009; a close for anything else is a finding.
  if ('closed' in reply) {
    if (reply.closed === 1009 && frameBytes > MAX_FRAME_BYTES) return;
    return findings.push({ kind: 'untyped', what, detail: `connection closed with ${String(reply.closed)}` });
  }
  const err = reply.error as { code?: unknown; message?: unknown } | undefined;
  if (!err || !(ERROR_CODES as readonly unknown[]).includes(err.code) || typeof err.message !== 'string' || err.message === '') {
    return findings.push({ kind: 'untyped', what, detail: short(JSON.stringify(reply)) });
  }
  if (err.code === 'INTERNAL') findings.push({ kind: 'internal', what, detail: short(String(err.message)) });
}

async function alive(label: string) {
  const c = new Client();
  try {
    await c.connect();
    const r = await c.send(JSON.stringify({ id: 1, method: 'host.info', args: {} }));
    if (!r || !('result' in r)) findings.push({ kind: 'crash', what: label, detail: `host.info answered ${short(JSON.stringify(r))}` });
  } catch (e) {
    findings.push({ kind: 'crash', what: label, detail: `cannot connect: ${(e as Error).message}` });
  } finally {
    c.close();
  }
}

function report(stage: string) {
  const mine = findings.splice(0);
  if (mine.length) console.log(`fuzz seed ${SEED}, ${stage}: ${mine.length} findings\n${mine.map((f) => `  [${f.kind}] ${f.what}\n      ${f.detail}`).join('\n')}`);
  expect(mine, `fuzz findings (seed ${SEED})`).toEqual([]);
}

beforeAll(async () => {
  // The temp folder is the library itself: web callers are confined to the library (and the
  // media folders), so paths in it reach the handlers instead of stopping at the policy.
  tmp = mkdtempSync(join(tmpdir(), 'vireo-fuzz-'));
  const dir = join(tmp, 'fuzz-files');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  files = { qcow2: join(dir, 'disk.qcow2'), raw: join(dir, 'disk.img'), text: join(dir, 'notes.txt'), dir, subdir: join(dir, 'sub') };
  writeFileSync(files.text, 'just text, not a disk image\n');
  writeFileSync(files.raw, Buffer.alloc(1024 * 1024));
  engine = await createEngine({ home: tmp });
  server = await startServer({ engine, port: 0, token: TOKEN, staticDir: join(import.meta.dirname, '..', '..', '.vite', 'renderer', 'main_window') });
  await engine.client.call('disks.create', { path: files.qcow2, size: '16M' });
  inputs = fuzzInputs(SEED, files, tmp);
});
afterAll(async () => {
  await server?.close();
  if (engine) {
    for (const v of engine.vms.list()) if (v.state !== 'stopped' && v.state !== 'crashed') await engine.client.call('vms.stop', { vm: v.id, force: true }).catch(() => {});
    await engine.dispose();
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe(`WebSocket fuzz (seed ${SEED})`, () => {
  // A VM to aim at: re-created whenever a fuzzed vms.delete removed it.
  const ensureVm = async () => {
    if (!engine.vms.list().some((v) => v.name === 'fuzz-target')) await engine.client.call('vms.create', { name: 'fuzz-target', memory: '64M', disk: '64M' });
  };
  const target = () => engine.vms.list().find((x) => x.name === 'fuzz-target');
  const vmRefs = () => {
    const v = target();
    return v ? [v.id, v.name] : [];
  };

  /** Every variant of every method in the list over one connection; findings recorded by judge. */
  async function fuzz(list: readonly (typeof METHOD_NAMES)[number][], count: number, before: () => Promise<void>) {
    const client = new Client();
    await client.connect();
    let calls = 0;
    const outcomes = new Map<string, number>();
    for (const method of list) {
      for (const args of inputs.variants(method, vmRefs, count)) {
        await before();
        const frame = `{"id":${++calls},"method":${JSON.stringify(method)},"args":${args}}`;
        const reply = await client.send(frame);
        judge(`${method} ${short(args)}`, reply, Buffer.byteLength(frame));
        const code = reply === null ? 'hang' : 'result' in reply ? 'ok' : 'closed' in reply ? `closed ${String(reply.closed)}` : String((reply.error as { code?: unknown }).code);
        const key = `${method} ${code}`;
        if (process.env.VIREO_FUZZ_DEBUG && !outcomes.has(key)) console.log(`${key}: ${short(args)} → ${short(JSON.stringify(reply))}`);
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    }
    client.close();
    // What the calls got, by method and code: a run that never reached a handler would show it.
    console.log(`fuzz seed ${SEED}: ${calls} calls\n${[...outcomes].map(([k, n]) => `  ${k}: ${n}`).join('\n')}`);
    return calls;
  }

  it('every contract method: typed errors only, no hang, no crash, no prototype pollution', async () => {
    const calls = await fuzz(METHOD_NAMES, VARIANTS, ensureVm);
    await alive('after the method fuzz');
    expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').toBeUndefined();
    expect(calls).toBeGreaterThan(METHOD_NAMES.length * 10);
    report('methods');
  });

  it('the methods of a VM while it runs (the firmware idles): the same rules', async () => {
    inputs.state.running = true;
    const withVm = METHOD_NAMES.filter((m) => keysOf(m).includes('vm'));
    const ensureRunning = async () => {
      await ensureVm();
      const v = target()!;
      if (v.state === 'stopped' || v.state === 'crashed') await engine.client.call('vms.start', { vm: v.id });
      else if (v.state === 'paused' && inputs.rnd.chance(0.5)) await engine.client.call('vms.resume', { vm: v.id });
    };
    try {
      const calls = await fuzz(withVm, RUNNING_VARIANTS, ensureRunning);
      expect(calls).toBeGreaterThan(withVm.length * 3);
    } finally {
      inputs.state.running = false;
      const v = target();
      if (v && v.state !== 'stopped' && v.state !== 'crashed') await engine.client.call('vms.stop', { vm: v.id, force: true });
    }
    await alive('after the running-VM fuzz');
    expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').toBeUndefined();
    report('running VM');
  });

  it('bursts of concurrent calls on one VM (the races of issue 13): every answer typed, none lost', async () => {
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const w = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${TOKEN}`);
      w.once('open', () => resolve(w));
      w.once('error', reject);
    });
    const waiting = new Map<number, (m: Record<string, unknown>) => void>();
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (typeof m.id === 'number') waiting.get(m.id)?.(m);
    });
    const RACY = ['vms.create', 'vms.delete', 'vms.update', 'vms.clone', 'vms.get', 'vms.list', 'snapshots.save', 'snapshots.delete', 'snapshots.rename', 'snapshots.restore', 'snapshots.list', 'disks.convert', 'disks.resize', 'disks.info', 'jobs.list'] as const;
    let id = 1_000_000;
    const tally = new Map<string, number>();
    for (let burst = 0; burst < Number(process.env.VIREO_FUZZ_BURSTS ?? 6); burst++) {
      await ensureVm();
      const sent = Array.from({ length: 16 }, () => {
        const method = inputs.rnd.pick(RACY);
        // Well-formed arguments: the handlers, not the schemas, are under test here.
        const args = Object.fromEntries(keysOf(method).filter((k) => k === 'vm' || k === 'name' || k === 'snapshot' || k === 'path' || k === 'output' || k === 'size' || k === 'patch' || inputs.rnd.chance(0.3)).map((k) => [k, inputs.validFor(method, k, vmRefs)]));
        // One name shared by the burst's creates and clones, so they race for it.
        if (method === 'vms.create' || method === 'vms.clone') args.name = `race-${burst}`;
        const myId = ++id;
        const frame = JSON.stringify({ id: myId, method, args });
        return new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            waiting.delete(myId);
            judge(`burst ${burst}: ${method} ${short(JSON.stringify(args))}`, null);
            resolve();
          }, CALL_BOUND_MS * 2);
          waiting.set(myId, (m) => {
            clearTimeout(timer);
            waiting.delete(myId);
            judge(`burst ${burst}: ${method} ${short(JSON.stringify(args))}`, m);
            const code = 'result' in m ? 'ok' : String((m.error as { code?: unknown } | undefined)?.code);
            tally.set(`${method} ${code}`, (tally.get(`${method} ${code}`) ?? 0) + 1);
            resolve();
          });
          ws.send(frame);
        });
      });
      await Promise.all(sent);
      // No two VMs ever share a name.
      const names = engine.vms.list().map((v) => v.name.toLowerCase());
      expect(new Set(names).size, names.join(', ')).toBe(names.length);
    }
    ws.close();
    console.log(`fuzz seed ${SEED}, bursts:\n${[...tally].sort().map(([k, n]) => `  ${k}: ${n}`).join('\n')}`);
    await alive('after the bursts');
    report('bursts');
  });

  it('malformed frames and envelopes: BAD_REQUEST or a closed connection, and the server keeps serving', async () => {
    const client = new Client();
    await client.connect();
    const texts = [
      '{', '}', '[1,2]', 'null', '"str"', '42', '', ' ', '\u0000', '{"id":{},"method":"host.info"}', `{"id":"${'x'.repeat(65)}","method":"host.info"}`,
      '{"id":1}', '{"id":1,"method":null}', '{"id":1,"method":["host.info"]}', '{"id":true,"method":"host.info"}', '{"id":null,"method":"host.info"}',
      '{"__proto__":{"id":1},"method":"host.info"}', `${'['.repeat(50_000)}${']'.repeat(50_000)}`, `{"id":1,"method":"host.info","args":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
      '{"id":1e309,"method":"host.info"}', '{"id":1,"method":"host.info","args":{"refresh":1e309}}', '{"id":1,"id":2,"method":"host.info"}',
      `{"id":1,"method":"${'m'.repeat(100_000)}"}`, '{"id":1,"method":"constructor"}', '{"id":1,"method":"__proto__"}', '{"id":1,"method":"toString"}',
      '{"id":1,"method":"hasOwnProperty"}', '\uFEFF{"id":1,"method":"host.info"}',
    ];
    const seen: string[] = [];
    for (const t of texts) {
      const reply = await client.send(t);
      judge(`frame ${short(JSON.stringify(t))}`, reply, Buffer.byteLength(t));
      seen.push(reply === null ? 'hang' : 'result' in reply ? 'ok' : 'closed' in reply ? `closed ${String(reply.closed)}` : String((reply.error as { code?: unknown }).code));
    }
    // Every envelope was answered (typed) rather than the connection dropped.
    expect(seen.filter((c) => c === 'ok' || (ERROR_CODES as readonly string[]).includes(c)).length, seen.join(' ')).toBe(texts.length);
    judge('a binary frame', await client.send(randomBytes(64)));
    client.close();

    // Frame-level garbage on a raw socket: the connection is closed, the server is not.
    for (let i = 0; i < 24; i++) {
      const frame = i < 4 ? badFrame(i) : Buffer.from(Array.from({ length: 1 + rnd.int(200) }, () => rnd.int(256)));
      const outcome = await rawWebSocket(frame);
      if (outcome.startsWith('HTTP/1.1 5')) findings.push({ kind: 'bad-status', what: `raw frame ${i}`, detail: outcome });
    }
    await alive('after malformed frames');
    report('frames');
  });

  it('malformed upgrades and requests (the two known crashers included): 4xx, and the server keeps serving', async () => {
    const host = `127.0.0.1:${server.port}`;
    const ws = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`;
    const cases: [string, string][] = [
      ['cookie not percent-encoding', `GET /api HTTP/1.1\r\nHost: ${host}\r\n${ws}Cookie: vireo_token=%E0%A4%A\r\n\r\n`],
      ['request target not a URL', `GET http://[ HTTP/1.1\r\nHost: ${host}\r\n${ws}Cookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['request target not a URL, plain GET', `GET http://[ HTTP/1.1\r\nHost: ${host}\r\nCookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['absolute-form with another host', `GET http://evil.example/api HTTP/1.1\r\nHost: ${host}\r\n${ws}Cookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['no key', `GET /api HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nCookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['version 99', `GET /api HTTP/1.1\r\nHost: ${host}\r\n${ws.replace('Version: 13', 'Version: 99')}Cookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['bad token escape', `GET /api?token=%ZZ HTTP/1.1\r\nHost: ${host}\r\n${ws}\r\n`],
      ['bad path escape', `GET /%ZZ HTTP/1.1\r\nHost: ${host}\r\nCookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['display route with a bad escape', `GET /display/%ZZ?token=x HTTP/1.1\r\nHost: ${host}\r\n${ws}Cookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['display route of no VM', `GET /display/${'a'.repeat(5000)}?token=${'0'.repeat(64)} HTTP/1.1\r\nHost: ${host}\r\n${ws}Cookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['console route, token twice', `GET /console/x?token=1&token=2 HTTP/1.1\r\nHost: ${host}\r\n${ws}Cookie: vireo_token=${TOKEN}\r\n\r\n`],
      ['cookie with a thousand parts', `GET /api HTTP/1.1\r\nHost: ${host}\r\n${ws}Cookie: ${'a=%;'.repeat(1000)}vireo_token=%\r\n\r\n`],
      ['origin null', `GET /api?token=${TOKEN} HTTP/1.1\r\nHost: ${host}\r\n${ws}Origin: null\r\n\r\n`],
      ['origin not a URL', `GET /api?token=${TOKEN} HTTP/1.1\r\nHost: ${host}\r\n${ws}Origin: http://[\r\n\r\n`],
      ['host not ours', `GET /api?token=${TOKEN} HTTP/1.1\r\nHost: evil.example\r\n${ws}\r\n`],
      ['host with odd bytes', `GET /api?token=${TOKEN} HTTP/1.1\r\nHost: [::1\r\n${ws}\r\n`],
      ['header 40 KiB', `GET /api HTTP/1.1\r\nHost: ${host}\r\n${ws}X-Big: ${'b'.repeat(40_000)}\r\n\r\n`],
      ['POST upgrade', `POST /api?token=${TOKEN} HTTP/1.1\r\nHost: ${host}\r\n${ws}Content-Length: 5\r\n\r\nhello`],
      ['not HTTP', 'hello there\r\n\r\n'],
      ['HTTP/0.9', 'GET /\r\n\r\n'],
    ];
    for (let i = 0; i < 12; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + rnd.int(300) }, () => rnd.int(256))).toString('latin1');
      cases.push([`random bytes ${i}`, rnd.chance(0.5) ? junk : `GET /${junk.replace(/[\r\n ]/g, '')} HTTP/1.1\r\nHost: ${host}\r\n${ws}\r\n`]);
    }
    for (const [what, bytes] of cases) {
      const res = await raw(Buffer.from(bytes, 'latin1'));
      const status = /^HTTP\/1\.1 (\d{3})/.exec(res)?.[1];
      if (status && status.startsWith('5')) findings.push({ kind: 'bad-status', what, detail: short(res) });
      if (status === '101') findings.push({ kind: 'bad-status', what, detail: 'a malformed or unauthorized upgrade was accepted' });
    }
    await alive('after malformed upgrades');
    report('upgrades');
  });
});


/** A proper API handshake, then one garbage frame; resolves with the response head and what followed. */
function rawWebSocket(frame: Buffer): Promise<string> {
  const head =
    `GET /api?token=${TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  return raw(Buffer.concat([Buffer.from(head), frame]));
}

/** Frames a server must refuse: bad UTF-8 text, a reserved opcode, an unmasked frame, a 2^63-byte length. */
function badFrame(i: number): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = (p: Buffer) => Buffer.from(p.map((b, j) => b ^ mask[j % 4]!));
  switch (i) {
    case 0:
      return Buffer.concat([Buffer.from([0x81, 0x82]), mask, masked(Buffer.from([0xc3, 0x28]))]);
    case 1:
      return Buffer.concat([Buffer.from([0x83, 0x81]), mask, masked(Buffer.from([0x41]))]);
    case 2:
      return Buffer.from([0x81, 0x02, 0x7b, 0x7d]);
    default:
      return Buffer.concat([Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), mask]);
  }
}
