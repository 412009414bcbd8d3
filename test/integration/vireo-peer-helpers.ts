import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { runtimeRoot } from '../../electron/engine/paths.ts';
import { run } from '../../electron/engine/util/proc.ts';
import type { Engine } from '../../electron/engine/index.ts';
import { startServer } from '../../electron/server/server.ts';
import { CLI_MAIN, REPO_ROOT, runVireo } from './cli-helpers.ts';
import { wsRpc } from './net-helpers.ts';

// Another Vireo engine for the Vireo↔Vireo move tests: a real `vireo serve` with its own
// library, inside a network namespace made here and reached over a veth pair (10.<a>.<n>.1
// here, .2 there). It prints its URL and pairing secret; its API is called as any client
// (its token). The tests name namespaces, links and dirs with the h2 prefix.

export interface VireoPeer {
  ns: string;
  here: string;
  there: string;
  home: string;
  port: number;
  uri: string;
  secret: string;
  /** one API call on the peer's serve; the whole reply frame ({result} or {error}) */
  call(method: string, args?: unknown): Promise<{ result?: unknown; error?: { code: string; message: string } }>;
  /** PIDs of QEMUs whose argv names this VM id, split by whether they run in the peer's namespace */
  qemus(id: string): Promise<{ here: number[]; there: number[] }>;
  /** the serial socket of one of the peer's running VMs */
  serialSocket(id: string): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The peer moves VM `id` back live to `engine`: this engine is served on its veth address for
 * the move, the peer pairs with it as "home" through its CLI, and the serve closes after.
 */
export async function moveBackHome(engine: Engine, peer: VireoPeer, id: string): Promise<void> {
  const server = await startServer({ engine, host: peer.here, port: 0, staticDir: join(engine.home, 'no-renderer') });
  try {
    const paired = await runVireo(peer.home, ['host', 'add', 'home', `vireo://${peer.here}:${server.port}`, '--secret', await engine.migrations.secret()]);
    if (paired.code !== 0) throw new Error(`the peer could not pair with this engine: ${paired.stderr}`);
    const back = await peer.call('vms.migrate', { vm: id, to: 'home' });
    if (back.error) throw new Error(`the move back failed: ${back.error.message}`);
  } finally {
    await server.close();
  }
}

export async function startVireoPeer(label: string, subnet: number): Promise<VireoPeer> {
  const n = 100 + (process.pid % 100);
  const ns = `h2${label}${n}`;
  const here = `10.${subnet}.${n}.1`;
  const there = `10.${subnet}.${n}.2`;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['link', 'add', `${ns}h`, 'type', 'veth', 'peer', 'name', `${ns}n`]);
  await run('ip', ['link', 'set', `${ns}n`, 'netns', ns]);
  await run('ip', ['addr', 'add', `${here}/24`, 'dev', `${ns}h`]);
  await run('ip', ['link', 'set', `${ns}h`, 'up']);
  await run('ip', ['-n', ns, 'addr', 'add', `${there}/24`, 'dev', `${ns}n`]);
  await run('ip', ['-n', ns, 'link', 'set', `${ns}n`, 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const home = mkdtempSync(join(tmpdir(), `vireo-h2${label}-`));
  const serve: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', CLI_MAIN, '--home', home, 'serve', '--host', there, '--port', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const printed = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    serve.stdout!.on('data', (d) => {
      out += d;
      if (/--secret \S+\n/.test(out)) resolve(out);
    });
    serve.stderr!.on('data', (d) => (err += d));
    serve.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
  const url = new URL(/serving at (http:\/\/\S+)/.exec(printed)![1]!);
  const port = Number(url.port);
  const token = url.searchParams.get('token')!;
  const pair = /vireo host add NAME (vireo:\/\/\S+) --secret (\S+)/.exec(printed)!;
  const call = async (method: string, args: unknown = {}) => {
    const ws = new WebSocket(`ws://${there}:${port}/api?token=${encodeURIComponent(token)}`);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    try {
      return (await wsRpc(ws, method, args)) as { result?: unknown; error?: { code: string; message: string } };
    } finally {
      ws.close();
    }
  };
  const qemus = async (id: string) => {
    const inNs = new Set((await run('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean).map(Number));
    const out = { here: [] as number[], there: [] as number[] };
    for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        const st = readFileSync(`/proc/${d}/stat`, 'utf8');
        if (!argv[0]?.includes('qemu-system') || !argv.includes(id) || st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) === 'Z') continue;
        (inNs.has(Number(d)) ? out.there : out.here).push(Number(d));
      } catch {
        /* gone */
      }
    }
    return out;
  };
  return {
    ns,
    here,
    there,
    home,
    port,
    uri: pair[1]!,
    secret: pair[2]!,
    call,
    qemus,
    serialSocket: (id) => join(runtimeRoot(home), id.slice(0, 8), 'serial.sock'),
    async stop() {
      if (serve.exitCode === null) {
        // VMs outlive serve: the peer's are stopped through its API first, then any left killed.
        const list = ((await call('vms.list').catch(() => ({ result: [] }))).result ?? []) as { id: string; state: string }[];
        for (const v of list) {
          if (v.state !== 'stopped') await call('vms.stop', { vm: v.id, force: true }).catch(() => {});
          for (const pid of (await qemus(v.id)).there) process.kill(pid, 'SIGKILL');
        }
        const gone = new Promise((r) => serve.once('exit', r));
        serve.kill('SIGTERM');
        await Promise.race([gone, sleep(10_000)]);
      }
      await run('ip', ['netns', 'del', ns]).catch(() => {});
      await run('ip', ['link', 'del', `${ns}h`]).catch(() => {});
      await rm(home, { recursive: true, force: true });
      await rm(runtimeRoot(home), { recursive: true, force: true });
    },
  };
}
