import { readFile } from 'node:fs/promises';

// What Linux's /proc says about a QEMU process and its threads. Other OSes have no /proc: the
// sampler reports those figures as absent with NO_PROC_REASON rather than inventing them.

export const NO_PROC_REASON =
  process.platform === 'linux'
    ? null
    : `not yet on ${process.platform}: the engine reads a QEMU process's CPU time and memory from /proc, which only Linux has`;

/**
 * /proc's time unit (USER_HZ). It is 100 on every Linux architecture Vireo runs on (x86_64,
 * aarch64): the kernel fixes the user-visible tick at 100 whatever its internal HZ is.
 */
export const USER_HZ = 100;

/** utime + stime of a process or thread, in USER_HZ ticks (fields 14 and 15 of stat(5)). */
export function parseStatTicks(stat: string): number | null {
  // The command name (field 2) is in parentheses and may itself hold spaces or ')':
  // the fields after it start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

/** VmRSS of /proc/<pid>/status in bytes (kB there, whatever the page size). */
export function parseRssBytes(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/** MemTotal and MemAvailable of /proc/meminfo in bytes. */
export function parseMeminfo(text: string): { total: number | null; available: number | null } {
  const get = (k: string) => {
    const m = new RegExp(`^${k}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  return { total: get('MemTotal'), available: get('MemAvailable') };
}

export async function processTicks(pid: number): Promise<number | null> {
  return parseStatTicks(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

export async function threadTicks(pid: number, tid: number): Promise<number | null> {
  return parseStatTicks(await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
}

export async function processRss(pid: number): Promise<number | null> {
  return parseRssBytes(await readFile(`/proc/${pid}/status`, 'utf8'));
}

export async function hostMemory(): Promise<{ total: number | null; available: number | null }> {
  if (process.platform !== 'linux') return { total: null, available: null };
  return parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
}
