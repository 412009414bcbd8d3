import { cpus, freemem, totalmem } from 'node:os';
import type { Handlers } from '../../api/contract.ts';
import type { HostStats } from '../../api/stats-types.ts';
import type { EngineParts } from '../parts.ts';
import { hostMemory, NO_PROC_REASON } from './proc.ts';
import { StatsSampler } from './sampler.ts';

// stats.*: leases on the sampler (sampler.ts), the kept history, and the host overview. The
// overview reads the samplers' newest samples and /proc/meminfo: it never starts sampling, so
// a viewer that only polls it costs nothing until it also takes a watch.

export function statsArea(p: EngineParts): { sampler: StatsSampler; handlers: Pick<Handlers, 'stats.watch' | 'stats.unwatch' | 'stats.history' | 'stats.host'> } {
  const sampler = new StatsSampler(p.vms, p.agent, p.bus);
  const host = async (): Promise<HostStats> => {
    const mem = await hostMemory().catch(() => ({ total: null, available: null }));
    return {
      cpus: cpus().length,
      // os.freemem() counts the page cache as used; MemAvailable is what a new VM could get.
      memTotalBytes: mem.total ?? totalmem(),
      memAvailableBytes: mem.available ?? freemem(),
      unavailable: NO_PROC_REASON,
      vms: p.vms.list().map((v) => ({ id: v.id, name: v.name, state: v.state, ...sampler.latest(v.id) })),
      sampler: sampler.status(),
    };
  };
  return {
    sampler,
    handlers: {
      'stats.watch': async (a) => sampler.watch(a.vm, a.watchId),
      'stats.unwatch': async (a) => sampler.unwatch(a.watchId),
      'stats.history': async (a) => sampler.history(a.vm),
      'stats.host': host,
    },
  };
}
