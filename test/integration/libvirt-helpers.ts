import { spawn, type ChildProcess } from 'node:child_process';
import { WebSocket } from 'ws';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../electron/engine/util/proc.ts';

// A private libvirt session daemon for a test: its own runtime, config, cache and data
// folders in a temp dir, reached by the URI qemu+unix:///session?socket=… (the socket in that
// dir), so neither the machine's system libvirt nor another test's daemon is touched. As root
// it runs as "nobody" (root's libvirtd is always the system daemon); root's virsh may still
// talk to its socket. The tests name these dirs /tmp/h8lv-* and stop only their own daemon.

const NOBODY = 65534;
export const asRoot = () => process.getuid?.() === 0;

export interface SessionLibvirt {
  dir: string;
  uri: string;
  virsh(args: string[], timeoutMs?: number): Promise<string>;
  /** make a file the daemon's QEMU (nobody when root) can use */
  own(path: string): Promise<void>;
  /** a dir storage pool named `name` in the daemon's dir, built and started */
  addPool(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export function libvirtMissing(): string | null {
  return ['/usr/sbin/libvirtd', '/usr/bin/virsh'].every((p) => existsSync(p)) ? null : 'libvirtd/virsh are not installed (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients; scripts/dev.sh APT_TEST has them)';
}

export async function startSessionLibvirt(label: string, opts: { netns?: string } = {}): Promise<SessionLibvirt> {
  const dir = await mkdtemp(`/tmp/h8lv-${label}-`);
  const env = { HOME: dir, XDG_RUNTIME_DIR: join(dir, 'run'), XDG_CONFIG_HOME: join(dir, 'cfg'), XDG_CACHE_HOME: join(dir, 'cache'), XDG_DATA_HOME: join(dir, 'data'), PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  for (const d of ['run', 'cfg', 'cache', 'data', 'pool']) await mkdir(join(dir, d), { mode: 0o700 });
  const own = async (p: string) => {
    if (asRoot()) await chown(p, NOBODY, NOBODY);
  };
  // Each daemon is its own "host" to libvirt: a migration between two with one host UUID would
  // be refused as a migration to the same host.
  await mkdir(join(dir, 'cfg', 'libvirt'), { mode: 0o700 });
  await writeFile(join(dir, 'cfg', 'libvirt', 'libvirtd.conf'), `host_uuid = "${randomUUID()}"\n`);
  for (const d of ['', 'run', 'cfg', 'cfg/libvirt', 'cfg/libvirt/libvirtd.conf', 'cache', 'data', 'pool']) await own(join(dir, d));
  const argv = [...(opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []), ...(asRoot() ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : []), '/usr/sbin/libvirtd', '--timeout', '0'];
  const daemon: ChildProcess = spawn(argv[0]!, argv.slice(1), { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const sock = join(dir, 'run', 'libvirt', 'libvirt-sock');
  const uri = `qemu+unix:///session?socket=${sock}`;
  const virsh = async (args: string[], timeoutMs = 120_000) => (await run('virsh', ['-q', '-c', uri, ...args], { timeoutMs })).stdout;
  const stop = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const gone = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (daemon.exitCode !== null) {
      await stop();
      throw new Error(`libvirtd exited at start-up: ${stderr}`);
    }
    if (existsSync(sock) && (await virsh(['version'], 10_000).then(() => true, () => false))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`libvirtd did not answer within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    dir,
    uri,
    virsh,
    own,
    async addPool(name = 'default') {
      const target = join(dir, 'pool');
      await virsh(['pool-define-as', name, 'dir', '--target', target]);
      await virsh(['pool-start', name]);
      return target;
    },
    stop,
  };
}

/** Destroys every domain of the daemon (they are the test's own), then undefines them. */
export async function removeAllDomains(lv: SessionLibvirt): Promise<void> {
  const names = (await lv.virsh(['list', '--all', '--name']).catch(() => '')).split('\n').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    await lv.virsh(['destroy', n]).catch(() => {});
    await lv.virsh(['undefine', n, '--snapshots-metadata', '--nvram']).catch(() => {});
  }
}

/**
 * A console WebSocket (hosts.console's URL: the display bridge's serial hub) read until `re`
 * matches its bytes; closed after.
 */
export async function readConsoleUntil(url: string, re: RegExp, timeoutMs: number, what = url): Promise<string> {
  const ws = new WebSocket(url);
  let text = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`console of ${what} never matched ${re} in ${timeoutMs} ms; last: ${text.slice(-500)}`)), timeoutMs);
      ws.on('message', (data: Buffer, binary: boolean) => {
        if (!binary) return;
        text += data.toString('latin1');
        if (re.test(text)) {
          clearTimeout(timer);
          resolve(text);
        }
      });
      ws.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      ws.once('close', (code, reason) => {
        clearTimeout(timer);
        reject(new Error(`console of ${what} closed (${code} ${reason.toString()}) before ${re}: ${text.slice(-500)}`));
      });
    });
  } finally {
    ws.close();
  }
}
