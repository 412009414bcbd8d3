import { dirname } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Handlers } from '../../api/contract.ts';
import type { LimitsInfo } from '../../api/limits-types.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { EngineParts } from '../parts.ts';
import { THROTTLE_GROUP, throttleLimits } from '../qemu/argv/limits.ts';
import { cgroupPids, cpuCapHost, moveIntoCgroup, setCpuCap, vmCgroup } from './cgroup.ts';
import { networkLimitSupport, shapeBridged, unlimitedCards, writeSwitchRates } from './net-limits.ts';
import { hostResources, overcommitReport } from './overcommit.ts';

// Settings → Resources and `vireo limits`: the limits saved in vm.json and, while the VM runs,
// applied at once — the CPU cap to its cgroup, the disk limits to its throttle group (qom-set of
// the group's `limits`, QEMU's live knob for throttle groups). The overcommit report and the
// host meter live here too.

type Limits = VmConfig['limits'];

export function resourcesHandlers(p: EngineParts): Pick<Handlers, 'limits.get' | 'limits.set' | 'vms.overcommit' | 'host.resources'> {
  const { vms, library, bus } = p;

  /** Whether this run of the VM has its disks behind the throttle group (argv/limits.ts). */
  const runThrottled = (entry: LibraryEntry) => !!vms.machineFor(entry).info?.argv.some((a) => a.startsWith(`throttle-group,id=${THROTTLE_GROUP},`));

  async function info(entry: LibraryEntry, pending: string[] = []): Promise<LimitsInfo> {
    const c = entry.config!;
    const m = vms.machineFor(entry);
    const host = await cpuCapHost();
    const dir = vmCgroup(host, entry.id);
    const inGroup = !!(dir && m.isActive && m.pid && (await cgroupPids(dir)).includes(m.pid));
    const live = !m.isActive || runThrottled(entry);
    return {
      limits: c.limits,
      cpu: { available: host.available, reason: host.reason, mechanism: host.mechanism, cgroup: inGroup ? dir : null },
      disk: {
        available: c.disks.length > 0,
        reason: c.disks.length ? null : 'the VM has no disks',
        live,
      },
      network: networkLimitSupport(),
      pending: [...pending, ...unlimitedCards(c), ...(m.isActive && !live && (c.limits.diskBytesPerSec !== null || c.limits.diskIops !== null) ? ['the disk limits apply from the next start: this run started without them, so its disks have no throttle filter to adjust'] : [])],
    };
  }

  async function applyLive(entry: LibraryEntry, before: Limits, next: Limits): Promise<void> {
    const m = vms.machineFor(entry);
    if (!m.isActive || !m.pid) return;
    if (next.cpuPercent !== before.cpuPercent) {
      const dir = await setCpuCap(await cpuCapHost(), entry.id, next.cpuPercent);
      if (!(await cgroupPids(dir)).includes(m.pid)) await moveIntoCgroup(dir, m.pid);
    }
    const diskChanged = next.diskBytesPerSec !== before.diskBytesPerSec || next.diskIops !== before.diskIops;
    if (diskChanged && runThrottled(entry)) {
      await m.monitor('change the disk limits of').execute('qom-set', { path: `/objects/${THROTTLE_GROUP}`, property: 'limits', value: throttleLimits(next) });
    }
    if (next.netBytesPerSec !== before.netBytesPerSec) {
      const c = entry.config!;
      // A stopped VM's switch rates are written by its launch (resources/net-limits.ts).
      await writeSwitchRates(dirname(entry.paths.runtime), c, next.netBytesPerSec);
      if (c.networks.some((n) => n.mode === 'bridged')) await shapeBridged(entry.id, m.pid, next.netBytesPerSec);
    }
  }

  return {
    'limits.get': async (a) => {
      const entry = vms.resolve(a.vm);
      if (!entry.config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
      return info(entry);
    },
    'limits.set': (a) => {
      const { id } = vms.resolve(a.vm);
      return vms.locks.run(id, 'a limits change', async () => {
        const entry = vms.resolve(id);
        const c = entry.config;
        if (!c) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
        const next: Limits = {
          cpuPercent: a.cpuPercent === undefined ? c.limits.cpuPercent : a.cpuPercent,
          diskBytesPerSec: a.diskBytesPerSec === undefined ? c.limits.diskBytesPerSec : a.diskBytesPerSec,
          diskIops: a.diskIops === undefined ? c.limits.diskIops : a.diskIops,
          netBytesPerSec: a.netBytesPerSec === undefined ? c.limits.netBytesPerSec : a.netBytesPerSec,
        };
        if (next.cpuPercent !== null) {
          const host = await cpuCapHost();
          if (!host.available) throw new VireoError('UNSUPPORTED', `no CPU cap on this host: ${host.reason}`, { field: 'cpuPercent' });
        }
        if (next.netBytesPerSec !== null && !c.networks.some((n) => n.mode === 'private' || n.mode === 'bridged')) {
          throw new VireoError('UNSUPPORTED', `"${c.name}" has no card a network limit can apply to: only bridged and private-network cards can be limited (NAT and host-only traffic leaves through QEMU's own sockets)`, { field: 'netBytesPerSec' });
        }
        // Applied first: a cap the host refuses is not saved as if it held.
        await applyLive(entry, c.limits, next);
        await library.saveConfig(entry, { ...c, limits: next });
        bus.emit('vm.changed', { id });
        return info(vms.resolve(id));
      });
    },
    'vms.overcommit': (a) => overcommitReport(vms, a.vm),
    'host.resources': () => hostResources(vms),
  };
}
