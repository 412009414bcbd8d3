import { readFileSync } from 'node:fs';

// Which engine wrote a record (a running job, a backup in progress), as a later engine can
// tell it apart from another process that got the same pid: the pid and, on Linux, the
// process's start time. Used by jobs.ts and backup/catalog.ts to find work a dead engine left.

export interface EngineId {
  pid: number;
  /** Linux: the process's start time in clock ticks since boot (/proc/<pid>/stat field 22) */
  start: string | null;
}

export function startTimeOf(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, start time 22.
    return st.slice(st.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** This process, as an EngineId. */
export const engineSelf = (): EngineId => ({ pid: process.pid, start: startTimeOf(process.pid) });

/** Is the engine that wrote a record still running (and not a new process with its pid)? */
export function isAlive(e: EngineId): boolean {
  // An earlier engine inside this same process (tests, an app re-opening its library) may
  // still be finishing its work: alive. Our pid with another start time is pid reuse: dead.
  if (e.pid === process.pid) return e.start === startTimeOf(process.pid);
  try {
    process.kill(e.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTimeOf(e.pid);
  return e.start === null || now === null || now === e.start;
}
