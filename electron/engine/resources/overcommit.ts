import { readFile } from 'node:fs/promises';
import { cpus as hostCpus, freemem, totalmem } from 'node:os';
import { VireoError } from '../../api/errors.ts';
import type { HostResources, OvercommitReport } from '../../api/limits-types.ts';
import type { VmService } from '../vm/service.ts';
import { isActive } from '../../shared/states.ts';

// Overcommit awareness before a start. The host's MemAvailable already leaves out what running
// VMs' QEMUs have taken; what they have not taken yet (a guest that booted small and will grow
// into its RAM) they may still claim, so it counts against the host as well as the new VM.
// Memory is refused (the host would swap or kill something), CPUs only warned about (time-
// sharing vCPUs is normal, just slower).

const MiB = 1024 ** 2;

async function meminfo(): Promise<{ totalMiB: number; availableMiB: number }> {
  const text = await readFile('/proc/meminfo', 'utf8').catch(() => null);
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text ?? '')?.[1] ?? NaN);
  const total = kb('MemTotal');
  const avail = kb('MemAvailable');
  // Without procfs (macOS, Windows) the OS's free memory is the nearest figure.
  return Number.isFinite(avail) ? { totalMiB: Math.floor(total / 1024), availableMiB: Math.floor(avail / 1024) } : { totalMiB: Math.floor(totalmem() / MiB), availableMiB: Math.floor(freemem() / MiB) };
}

async function residentMiB(pid: number | null): Promise<number> {
  if (!pid) return 0;
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Math.floor(Number(/^VmRSS:\s+(\d+) kB/m.exec(s)?.[1] ?? 0) / 1024);
}

async function running(vms: VmService, exceptId?: string) {
  const out: { memoryMiB: number; cpus: number; residentMiB: number }[] = [];
  for (const v of vms.list()) {
    // Only a QEMU takes memory: a VM saved to disk ('saved') holds none until it resumes.
    if (v.id === exceptId || !isActive(v.state)) continue;
    out.push({ memoryMiB: v.memoryMiB, cpus: v.cpus, residentMiB: await residentMiB(vms.machineFor(vms.resolve(v.id)).pid) });
  }
  return out;
}

export async function overcommitReport(vms: VmService, ref: string): Promise<OvercommitReport> {
  const entry = vms.resolve(ref);
  const c = entry.config;
  if (!c) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
  const others = await running(vms, entry.id);
  const mem = await meminfo();
  const runningMiB = others.reduce((s, o) => s + o.memoryMiB, 0);
  const unclaimed = others.reduce((s, o) => s + Math.max(0, o.memoryMiB - o.residentMiB), 0);
  const needed = c.system.memoryMiB + unclaimed;
  const runningVcpus = others.reduce((s, o) => s + o.cpus, 0);
  const cpus = hostCpus().length;
  const memOver = needed > mem.availableMiB;
  const cpuOver = runningVcpus + c.system.cpus > cpus;
  const n = others.length;
  const warnings: string[] = [];
  if (memOver) {
    warnings.push(
      `"${c.name}" needs ${c.system.memoryMiB} MiB` +
        (n ? ` and the ${n} running VM${n > 1 ? 's' : ''} may still claim ${unclaimed} MiB of their ${runningMiB} MiB` : '') +
        `, ${needed} MiB in all, but the host has ${mem.availableMiB} MiB available (of ${mem.totalMiB} MiB): lower its memory to at most ${Math.max(0, mem.availableMiB - unclaimed)} MiB, stop another VM, or start anyway (the host may swap)`,
    );
  }
  if (cpuOver) warnings.push(`${runningVcpus + c.system.cpus} vCPUs${n ? ` (${c.system.cpus} of them this VM's)` : ''} on ${cpus} host CPUs: the guests share the CPUs and run slower`);
  return {
    memory: { thisMiB: c.system.memoryMiB, runningMiB, runningUnclaimedMiB: unclaimed, neededMiB: needed, availableMiB: mem.availableMiB, totalMiB: mem.totalMiB, over: memOver },
    cpus: { thisVcpus: c.system.cpus, runningVcpus, hostCpus: cpus, over: cpuOver },
    warnings,
  };
}

/** Before a start: refuses (OVERCOMMIT, the report in details) when the host's memory would not cover it, unless told to go on. */
export async function assertStartFits(vms: VmService, ref: string, overcommit: boolean | undefined): Promise<void> {
  if (overcommit) return;
  const r = await overcommitReport(vms, ref);
  if (r.memory.over) throw new VireoError('OVERCOMMIT', `${r.warnings[0]} (to start anyway: vireo start --force, or overcommit: true)`, { ...r });
}

export async function hostResources(vms: VmService): Promise<HostResources> {
  const mem = await meminfo();
  const r = await running(vms);
  return {
    memTotalMiB: mem.totalMiB,
    memAvailableMiB: mem.availableMiB,
    vmsMemoryMiB: r.reduce((s, o) => s + o.memoryMiB, 0),
    vmsResidentMiB: r.reduce((s, o) => s + o.residentMiB, 0),
    cpus: hostCpus().length,
    vmsVcpus: r.reduce((s, o) => s + o.cpus, 0),
    running: r.length,
  };
}
