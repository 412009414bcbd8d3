import { readFile } from 'node:fs/promises';
import { setPriority, constants } from 'node:os';
import { run } from '../util/proc.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';

// What the OS lets us do to a running QEMU: priority everywhere; CPU pinning on Linux through
// util-linux's `taskset` (sched_setaffinity has no Node API). Where neither works the failure
// is returned as a note for the VM's log, never silently ignored.

const PRIORITY: Record<VmConfig['system']['priority'], number> = {
  low: constants.priority.PRIORITY_BELOW_NORMAL,
  normal: constants.priority.PRIORITY_NORMAL,
  high: constants.priority.PRIORITY_ABOVE_NORMAL,
};

export async function applyProcessPolicy(pid: number, system: VmConfig['system']): Promise<string[]> {
  const notes: string[] = [];
  if (system.pinCpus.length) {
    if (process.platform !== 'linux') notes.push('CPU pinning is only supported on Linux hosts');
    else {
      try {
        // -a: every thread, so vCPU threads created later inherit nothing stale.
        await run('taskset', ['-a', '-p', '-c', system.pinCpus.join(','), String(pid)], { timeoutMs: 5000 });
      } catch (e) {
        notes.push(`could not pin to CPUs ${system.pinCpus.join(',')}: ${(e as Error).message}`);
      }
    }
  }
  if (system.priority !== 'normal') {
    try {
      setPriority(pid, PRIORITY[system.priority]);
    } catch (e) {
      notes.push(`could not set priority ${system.priority}: ${(e as Error).message}`);
    }
  }
  return notes;
}

/** CPU use since the last call and resident memory of a process (Linux procfs). */
const lastCpu = new Map<number, { ticks: number; at: number }>();

export async function processStats(pid: number): Promise<{ cpuPercent: number; rssBytes: number }> {
  if (process.platform !== 'linux') return { cpuPercent: 0, rssBytes: 0 };
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssPages = Number(fields[21]);
  const now = Date.now();
  const prev = lastCpu.get(pid);
  lastCpu.set(pid, { ticks, at: now });
  const hz = 100;
  const cpuPercent = prev ? Math.max(0, ((ticks - prev.ticks) / hz / ((now - prev.at) / 1000)) * 100) : 0;
  return { cpuPercent, rssBytes: rssPages * 4096 };
}
