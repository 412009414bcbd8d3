import { existsSync } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VireoError } from '../../../api/errors.ts';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import { cleanEnv, spawnDetached, tail } from '../../util/proc.ts';
import type { HelperProcess } from '../../vm/helpers.ts';
import { switchDir, switchFiles } from './paths.ts';
import { pidAlive } from '../../vm/process.ts';

// The engine's side of a private network (resources/net/switch.mjs): before a VM with a
// private card starts, its network's switch must listen. The first VM on a network starts
// it; later VMs (from this engine or any other on the library) find it by its pidfile and
// socket. The switch leaves on its own after its last VM, so stop() has nothing to do: a VM
// that stops must not cut the others off.

const here = dirname(fileURLToPath(import.meta.url));

/** The switch program: in the packaged app's resources, else the source tree's. */
export function switchScript(): string {
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = [
    // electron-builder and Forge both put the project's resources/ at <resourcesPath>/resources
    ...(resources ? [join(resources, 'resources', 'net', 'switch.mjs')] : []),
    join(here, '..', '..', '..', '..', 'resources', 'net', 'switch.mjs'),
    // the bundled CLI: .vite/build/cli.mjs in a checkout
    join(here, '..', '..', 'resources', 'net', 'switch.mjs'),
    join(process.cwd(), 'resources', 'net', 'switch.mjs'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new VireoError('INTERNAL', `the private-network switch program is missing (looked in ${candidates.join(', ')}): reinstall Vireo`);
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const alive = pidAlive;

/** The pid of the network's running switch, or null (no pidfile, dead, or a stranger's pid). */
export async function findSwitch(rtRoot: string, network: string): Promise<number | null> {
  const f = switchFiles(switchDir(rtRoot), network);
  const pid = Number.parseInt((await readFile(f.pidFile, 'utf8').catch(() => '')).trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  if (process.platform === 'linux') {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').some((a) => a.endsWith('switch.mjs'))) return null;
  }
  return (await stat(f.socket).catch(() => null)) ? pid : null;
}

/** Starts in flight per switch socket: VMs on one network started together share one start. */
const starting = new Map<string, Promise<number>>();

export function ensureSwitch(rtRoot: string, network: string, timeoutMs = 10_000): Promise<number> {
  const key = switchFiles(switchDir(rtRoot), network).socket;
  const inFlight = starting.get(key);
  if (inFlight) return inFlight;
  const p = startSwitch(rtRoot, network, timeoutMs).finally(() => starting.delete(key));
  starting.set(key, p);
  return p;
}

async function startSwitch(rtRoot: string, network: string, timeoutMs: number): Promise<number> {
  const existing = await findSwitch(rtRoot, network);
  if (existing) return existing;
  const dir = switchDir(rtRoot);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = switchFiles(dir, network);
  const log = await open(f.log, 'a', 0o600);
  const args = [switchScript(), f.socket, f.pidFile, f.seen, f.rates];
  let started;
  try {
    // process.execPath is Node under the CLI and serve, Electron in the app: there it runs as Node.
    started = await spawnDetached(process.execPath, args, { env: { ...cleanEnv(), ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', log.fd, log.fd] });
  } finally {
    await log.close();
  }
  let exited: string | null = null;
  started.child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
  started.spawnFailed.catch(() => {});
  started.child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = await findSwitch(rtRoot, network);
    if (pid) return pid;
    if (exited !== null) {
      const text = await readFile(f.log, 'utf8').catch(() => '');
      throw new VireoError('TOOL_FAILED', `the switch of private network "${network}" exited while starting (${exited}): ${tail(text, 3) || 'no output'}; see ${f.log}`, { argv: [process.execPath, ...args] });
    }
    if (Date.now() > deadline) throw new VireoError('TIMEOUT', `the switch of private network "${network}" did not listen within ${timeoutMs} ms; see ${f.log}`, { argv: [process.execPath, ...args] });
    await sleep(20);
  }
}

/** One helper per private network the VM's cards are on. */
export function switchHelpers(rtRoot: string, config: VmConfig): HelperProcess[] {
  const names = [...new Set(config.networks.filter((n) => n.mode === 'private').map((n) => n.network!))];
  return names.map((network) => ({
    name: `switch ${network}`,
    start: async () => void (await ensureSwitch(rtRoot, network)),
    // The switch outlives one VM on purpose; it leaves by itself after its last VM.
    stop: async () => {},
  }));
}

/** MAC → IPv4 the network's switch has seen guests use (ARP, IPv4 sources). */
export async function switchSeen(rtRoot: string, network: string): Promise<Record<string, string>> {
  const text = await readFile(switchFiles(switchDir(rtRoot), network).seen, 'utf8').catch(() => '{}');
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}
