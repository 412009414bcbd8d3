import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// not node:crypto: loading it initialises OpenSSL, a quarter of `vireo list`'s start-up (shared/sha256.ts)
import { sha256Hex } from '../shared/sha256.ts';
import { mkdirSync, chmodSync, statSync, realpathSync } from 'node:fs';

/** The VM library root: --home, else VIREO_HOME, else the OS's app-data folder. */
export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (explicit) return resolve(explicit);
  if (env.VIREO_HOME) return resolve(env.VIREO_HOME);
  const home = homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Vireo');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Vireo');
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'vireo');
}

/**
 * Sockets live in a short per-library runtime folder: unix socket paths are limited to about
 * 108 bytes, and a library may sit deep in a home folder. The hash ties it to the library so
 * two libraries never share sockets.
 */
export function runtimeRoot(home: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const tag = sha256Hex(resolve(home)).slice(0, 10);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  if (platform === 'linux' && env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR.length < 40) return join(env.XDG_RUNTIME_DIR, `vireo-${tag}`);
  const base = platform === 'win32' ? tmpdir() : '/tmp';
  return join(base, `vireo-${uid}-${tag}`);
}

/** Make a private (0700) folder; refuse one owned by somebody else. */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') {
    const st = statSync(dir);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new Error(`${dir} belongs to another user: remove it or set VIREO_HOME`);
    }
    chmodSync(dir, 0o700);
  }
  return dir;
}

/** Where `vms.delete {keepDisks}` moves a deleted VM's disks, NVRAM and TPM state. */
export const keptRoot = (home: string) => join(home, 'kept');

/** swtpm's files in a VM's runtime folder (swtpm.ts); VmPaths names them for that folder. */
export const SWTPM_FILES = { socket: 'tpm.sock', pidFile: 'swtpm.pid' } as const;

/** A VM's UEFI variable store in its folder: qcow2 (snapshot-able), or raw from older VMs. */
export const NVRAM_FILES = ['nvram.qcow2', 'nvram.fd'] as const;

/** Running jobs of the library's owner, so the next owner can report them interrupted (jobs.ts). */
export const jobsFile = (home: string) => join(home, 'jobs.json');

export interface VmPaths {
  dir: string;
  config: string;
  logs: string;
  serialLog: string;
  qemuLog: string;
  snapshotsMeta: string;
  thumbnails: string;
  tpmState: string;
  runtime: string;
  pidFile: string;
  qmpSocket: string;
  qmpCmdSocket: string;
  vncSocket: string;
  serialSocket: string;
  /** the guest agent's channel (engine/agent/) */
  agentSocket: string;
  tpmSocket: string;
  tpmPidFile: string;
  stateFile: string;
  /** written before a live snapshot pauses a running guest, removed after it resumes (snapshots/pause-marker.ts) */
  snapshotPause: string;
}

export function vmPaths(home: string, id: string, rtRoot = runtimeRoot(home)): VmPaths {
  const dir = join(home, 'vms', id);
  const rt = join(rtRoot, id.slice(0, 8));
  return {
    dir,
    config: join(dir, 'vm.json'),
    logs: join(dir, 'logs'),
    serialLog: join(dir, 'logs', 'serial.log'),
    qemuLog: join(dir, 'logs', 'qemu.log'),
    snapshotsMeta: join(dir, 'snapshots.json'),
    thumbnails: join(dir, 'thumbnails'),
    tpmState: join(dir, 'tpm'),
    runtime: rt,
    pidFile: join(rt, 'qemu.pid'),
    qmpSocket: join(rt, 'qmp.sock'),
    qmpCmdSocket: join(rt, 'qmp-cmd.sock'),
    vncSocket: join(rt, 'vnc.sock'),
    serialSocket: join(rt, 'serial.sock'),
    agentSocket: join(rt, 'agent.sock'),
    tpmSocket: join(rt, SWTPM_FILES.socket),
    tpmPidFile: join(rt, SWTPM_FILES.pidFile),
    stateFile: join(rt, 'state.json'),
    snapshotPause: join(rt, 'snapshot-pause.json'),
  };
}

// ---- one owner per library ------------------------------------------------------------
// The names a library's owner uses. The lock comes first: whoever holds it is the only engine
// on the library; the socket is how every other process (the CLI, a second app) reaches it.

function libraryTag(home: string, length: number): string {
  return sha256Hex(resolve(home)).slice(0, length);
}

/**
 * The lock on Linux: an abstract unix socket name (leading NUL, no file). Binding it is atomic
 * and the kernel releases it when the holder dies, kill -9 included. The uid keeps two users'
 * libraries at the same path apart.
 */
export function ownerLockName(home: string): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  // The real path: a library reached through a symlink is still one library with one lock.
  let real = resolve(home);
  try {
    real = realpathSync(home);
  } catch {
    /* not there yet: the path as given */
  }
  return `\0vireo-lock-${uid}-${libraryTag(real, 24)}`;
}

/** The lock elsewhere: an O_EXCL file in the private runtime folder holding the owner's pid. */
export function ownerLockFile(rtRoot: string): string {
  return join(rtRoot, 'engine.lock');
}

/** The owner's API socket: a 0600 unix socket in the 0700 runtime folder (a named pipe on Windows). */
export function ownerSocketPath(rtRoot: string, home: string, platform = process.platform): string {
  if (platform === 'win32') return `\\\\.\\pipe\\vireo-${libraryTag(home, 24)}`;
  return join(rtRoot, 'engine.sock');
}
