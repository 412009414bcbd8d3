import { access, mkdir, readFile, rmdir, writeFile, constants } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';

// The CPU cap of a VM: its QEMU process (all threads, vCPUs included) in a cgroup of its own
// whose CPU quota is the cap. Which cgroup tree the engine may write depends on the host:
// - cgroup v2 (unified): as root a "vireo" group at the top; as a user only under the systemd
//   user service's subtree, and only when systemd delegates the cpu controller to it;
// - cgroup v1 (legacy/hybrid hosts, such as this project's CI): the cpu hierarchy, root only.
// Anything else gets the reason and the way out; nothing is pretended.

const ROOT = '/sys/fs/cgroup';
/** the scheduler period the quota is a share of (the kernel's default, 100 ms) */
export const CPU_PERIOD_US = 100_000;

export interface CpuCapHost {
  available: boolean;
  /** why not, with what to do; null when available */
  reason: string | null;
  mechanism: 'cgroup-v2' | 'cgroup-v1' | null;
  /** the folder the per-VM groups are made in */
  base: string | null;
}

const writable = async (p: string) => access(p, constants.W_OK).then(() => true, () => false);
const read = (p: string) => readFile(p, 'utf8').then((s) => s.trim(), () => null);
const uid = () => process.getuid?.() ?? -1;

let cached: Promise<CpuCapHost> | null = null;

/** What this host lets the engine do for a CPU cap (probed once per process). */
export function cpuCapHost(): Promise<CpuCapHost> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<CpuCapHost> {
  const no = (reason: string): CpuCapHost => ({ available: false, reason, mechanism: null, base: null });
  if (process.platform === 'darwin' || process.platform === 'win32') {
    return no(`${process.platform === 'darwin' ? 'macOS' : 'Windows'} has no per-process CPU quota Vireo can set: lower the VM's priority instead (Settings → System → Priority: low), which yields the CPU to other programs but caps nothing`);
  }
  if (process.platform !== 'linux') return no(`CPU caps need Linux cgroups; this host is ${process.platform}`);
  const v2controllers = await read(join(ROOT, 'cgroup.controllers'));
  if (v2controllers !== null) {
    if (uid() === 0) {
      if (!v2controllers.split(' ').includes('cpu')) return no('the cgroup v2 root offers no cpu controller (kernel built without CONFIG_CFS_BANDWIDTH?): no CPU cap is possible on this host');
      return { available: true, reason: null, mechanism: 'cgroup-v2', base: join(ROOT, 'vireo') };
    }
    return userSubtree(no);
  }
  if (existsSync(join(ROOT, 'cpu', 'cpu.cfs_quota_us'))) {
    if (uid() === 0 && (await writable(join(ROOT, 'cpu')))) return { available: true, reason: null, mechanism: 'cgroup-v1', base: join(ROOT, 'cpu', 'vireo') };
    return no('this host uses cgroup v1, whose cpu hierarchy only root may change: run Vireo as root for CPU caps, or boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1) and let systemd delegate the cpu controller to your user');
  }
  return no(`no cgroup cpu controller is mounted under ${ROOT}: mount cgroup v2 there (systemd does by default) to use CPU caps`);
}

/** A user under cgroup v2: only the subtree systemd delegated to user@<uid>.service is theirs. */
async function userSubtree(no: (r: string) => CpuCapHost): Promise<CpuCapHost> {
  const self = (await read('/proc/self/cgroup'))?.split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '';
  const m = /^(.*\/user@\d+\.service)(\/|$)/.exec(self);
  if (!m) return no(`this process runs in cgroup ${self || '(unknown)'}, outside a systemd user session's delegated subtree: start Vireo from your desktop session (or with systemd-run --user) to use CPU caps`);
  const svc = join(ROOT, m[1]!);
  const controllers = (await read(join(svc, 'cgroup.controllers')))?.split(' ') ?? [];
  if (!controllers.includes('cpu')) {
    return no('systemd does not delegate the cpu controller to your user session: add a drop-in for user@.service with "[Service]\\nDelegate=cpu cpuset io memory pids", run systemctl daemon-reload, log in again');
  }
  if (!(await writable(svc))) return no(`${svc} is not writable by this user: its cgroup subtree is not delegated to you`);
  return { available: true, reason: null, mechanism: 'cgroup-v2', base: join(svc, 'vireo.slice') };
}

export const vmCgroup = (host: CpuCapHost, vmId: string) => (host.base ? join(host.base, `vm-${vmId}`) : null);

async function enableCpu(dir: string): Promise<void> {
  const ctl = await read(join(dir, 'cgroup.subtree_control'));
  if (ctl !== null && !ctl.split(' ').includes('cpu')) await writeFile(join(dir, 'cgroup.subtree_control'), '+cpu');
}

/** Makes (or finds) the VM's group and sets its quota; null = no cap (the group stays, unlimited). */
export async function setCpuCap(host: CpuCapHost, vmId: string, percent: number | null): Promise<string> {
  const dir = vmCgroup(host, vmId);
  if (!host.available || !dir) throw new VireoError('UNSUPPORTED', `no CPU cap on this host: ${host.reason}`);
  try {
    if (host.mechanism === 'cgroup-v2') {
      await enableCpu(join(host.base!, '..'));
      await mkdir(host.base!, { recursive: true });
      await enableCpu(host.base!);
    }
    await mkdir(dir, { recursive: true });
    const quota = percent === null ? null : Math.max(1000, Math.round((percent / 100) * CPU_PERIOD_US));
    if (host.mechanism === 'cgroup-v2') {
      await writeFile(join(dir, 'cpu.max'), `${quota ?? 'max'} ${CPU_PERIOD_US}`);
    } else {
      await writeFile(join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quota ?? -1));
    }
  } catch (e) {
    throw new VireoError('PERMISSION_DENIED', `could not set the CPU cap in ${dir}: ${(e as Error).message}`, { cgroup: dir });
  }
  return dir;
}

/** Moves a whole process (every thread) into the VM's group. */
export async function moveIntoCgroup(dir: string, pid: number): Promise<void> {
  try {
    await writeFile(join(dir, 'cgroup.procs'), String(pid));
  } catch (e) {
    throw new VireoError('PERMISSION_DENIED', `could not move QEMU (pid ${pid}) into ${dir}: ${(e as Error).message}`, { cgroup: dir, pid });
  }
}

/** The pids in the VM's group (empty when there is none). */
export async function cgroupPids(dir: string): Promise<number[]> {
  const s = await read(join(dir, 'cgroup.procs'));
  return s ? s.split('\n').filter(Boolean).map(Number) : [];
}

/** Removes the VM's group once its QEMU is gone; idempotent. A group still in use is left (and said). */
export async function removeCgroup(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY right after QEMU exits: the kernel frees the exited task a moment later.
      if (code !== 'EBUSY' || i >= 20) throw new VireoError('IO_ERROR', `could not remove the VM's cgroup ${dir}: ${(e as Error).message}`, { cgroup: dir });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
