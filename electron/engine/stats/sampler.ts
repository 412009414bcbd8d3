import { randomUUID } from 'node:crypto';
import type { EventBus } from '../../api/dispatch.ts';
import { VireoError } from '../../api/errors.ts';
import type { SamplerStatus, StatsWatch, VmStatsHistory, VmStatsSample } from '../../api/stats-types.ts';
import type { AgentService } from '../agent/service.ts';
import type { VmService } from '../vm/service.ts';
import { Ring, toSample, type RawReading } from './compute.ts';
import { VmProbe } from './probe.ts';

// The engine's sampler. It costs nothing while nobody watches: no timer, no /proc read, no
// QMP command. A viewer (a graph, the host overview, `vireo top`) takes a lease with
// stats.watch and renews it; a lease not renewed lapses, so a closed browser tab or a killed
// CLI stops the sampling on its own. While one lease is alive, every VM it covers is read
// once a second, kept in a ring of ten minutes and streamed as `stats.sample`.

export const INTERVAL_MS = 1000;
export const LEASE_MS = 15_000;
export const RING_SAMPLES = 600;
/** a web token holder could open leases in a loop; each costs host CPU */
const MAX_WATCHES = 64;

interface Lease {
  vmId: string | null;
  expires: number;
}

interface VmTrack {
  ring: Ring<VmStatsSample>;
  probe: VmProbe | null;
  prev: RawReading | null;
}

export class StatsSampler {
  private readonly leases = new Map<string, Lease>();
  private readonly tracks = new Map<string, VmTrack>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private ticks = 0;
  private qmpCommands = 0;

  constructor(
    private readonly vms: VmService,
    private readonly agent: AgentService,
    private readonly bus: EventBus,
  ) {
    bus.on('vm.state', (e) => {
      // A new run has new thread ids, a new balloon and counters from zero: a new probe.
      if (e.state === 'stopped' || e.state === 'crashed') {
        const t = this.tracks.get(e.id);
        if (t) Object.assign(t, { probe: null, prev: null });
      }
    });
    bus.on('vm.changed', (e) => {
      if (e.removed) this.tracks.delete(e.id);
    });
  }

  watch(vmRef: string | undefined, renew: string | undefined): StatsWatch {
    const vmId = vmRef ? this.vms.resolve(vmRef).id : null;
    this.expire();
    let watchId = renew;
    if (watchId && !this.leases.has(watchId)) {
      throw new VireoError('NOT_FOUND', `no stats watch ${watchId}: it lapsed (not renewed within ${LEASE_MS / 1000} s) or was ended; call stats.watch without watchId for a new one`);
    }
    if (!watchId) {
      if (this.leases.size >= MAX_WATCHES) throw new VireoError('BUSY', `${MAX_WATCHES} stats watches are open: end some (stats.unwatch) or let them lapse`);
      watchId = randomUUID();
    }
    this.leases.set(watchId, { vmId, expires: Date.now() + LEASE_MS });
    this.schedule();
    return { watchId, vmId, intervalMs: INTERVAL_MS, leaseMs: LEASE_MS };
  }

  unwatch(watchId: string): { watching: number } {
    this.leases.delete(watchId);
    this.expire();
    this.schedule();
    return { watching: this.leases.size };
  }

  history(vmRef: string): VmStatsHistory {
    const entry = this.vms.resolve(vmRef);
    const t = this.tracks.get(entry.id);
    return {
      vmId: entry.id,
      name: entry.config?.name ?? entry.id,
      running: this.vms.machineFor(entry).isActive,
      intervalMs: INTERVAL_MS,
      capacity: RING_SAMPLES,
      samples: t?.ring.toArray() ?? [],
      unavailable: t?.probe?.unavailable ?? {},
      netSource: t?.probe?.netSource ?? null,
    };
  }

  latest(vmId: string) {
    const t = this.tracks.get(vmId);
    return { latest: t?.ring.last() ?? null, unavailable: t?.probe?.unavailable ?? {} };
  }

  status(): SamplerStatus {
    this.expire();
    return { watchers: this.leases.size, sampling: this.targets(), ticks: this.ticks, qmpCommands: this.qmpCommands };
  }

  dispose(): void {
    this.leases.clear();
    this.schedule();
  }

  private expire(): void {
    const now = Date.now();
    for (const [id, l] of this.leases) if (l.expires < now) this.leases.delete(id);
  }

  /** running VMs some lease covers */
  private targets(): string[] {
    const all = [...this.leases.values()].some((l) => l.vmId === null);
    const named = new Set([...this.leases.values()].map((l) => l.vmId));
    return this.vms
      .allMachines()
      .filter((m) => m.isActive && m.pid && (all || named.has(m.id)))
      .map((m) => m.id);
  }

  private schedule(): void {
    if (this.leases.size && !this.timer) {
      this.timer = setInterval(() => void this.tick(), INTERVAL_MS);
      // The engine's other work (serve, the app) keeps the process alive, not the graphs.
      this.timer.unref();
      void this.tick();
    } else if (!this.leases.size && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async tick(): Promise<void> {
    this.expire();
    if (!this.leases.size) return this.schedule();
    // A slow QMP (a guest busy saving a snapshot) must not stack ticks on top of each other.
    if (this.busy) return;
    this.busy = true;
    this.ticks++;
    try {
      await Promise.all(this.targets().map((id) => this.sampleVm(id)));
    } finally {
      this.busy = false;
    }
  }

  private async sampleVm(id: string): Promise<void> {
    const entry = this.vms.resolve(id);
    const m = this.vms.machineFor(entry);
    if (!m.isActive || !m.pid) return;
    let t = this.tracks.get(id);
    if (!t) this.tracks.set(id, (t = { ring: new Ring(RING_SAMPLES), probe: null, prev: null }));
    if (!t.probe || t.probe.pid !== m.pid) {
      t.probe = new VmProbe({
        pid: m.pid,
        qmp: () => m.monitor('read the statistics of'),
        onQmp: () => this.qmpCommands++,
        agentInterfaces: async () =>
          this.agent.status(id).state === 'connected' ? this.agent.call<unknown[]>(id, 'guest-network-get-interfaces', undefined, { timeoutMs: 2000 }) : null,
      });
      t.prev = null;
    }
    try {
      const raw = await t.probe.read();
      // After a pause in watching, a rate over the whole gap would pass for one second's.
      if (t.prev && raw.mono - t.prev.mono > 3 * INTERVAL_MS) t.prev = null;
      const sample = toSample(t.prev, raw);
      t.prev = raw;
      t.ring.push(sample);
      this.bus.emit('stats.sample', { vmId: id, sample, unavailable: { ...t.probe.unavailable }, netSource: t.probe.netSource });
    } catch {
      // The VM ended between the check and the read: its state event resets the track.
    }
  }
}
