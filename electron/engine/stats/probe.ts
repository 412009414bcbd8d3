import type { StatsUnavailable } from '../../api/stats-types.ts';
import type { QmpClient } from '../qmp/client.ts';
import type { DiskCounters, RawReading } from './compute.ts';
import { NO_PROC_REASON, processRss, processTicks, threadTicks } from './proc.ts';

// Reads one running VM for the sampler: /proc for the QEMU process and its vCPU threads, QMP
// for disks and the balloon, the guest agent for network traffic. One probe lives for one
// QEMU run (its pid): thread ids and the balloon's QOM path are looked up once, not per tick.

export interface ProbeDeps {
  pid: number;
  /** QMP of the running VM; each call counts toward the sampler's qmpCommands */
  qmp: () => QmpClient;
  onQmp: () => void;
  /** the guest agent's guest-network-get-interfaces, or null while no agent is connected */
  agentInterfaces: () => Promise<unknown[] | null>;
}

interface BlockStats {
  device?: string;
  qdev?: string;
  stats?: { rd_bytes?: number; wr_bytes?: number; rd_operations?: number; wr_operations?: number };
}

const NET_REASON =
  'not reported: QEMU\'s monitor has no traffic counters for user-mode (slirp), passt, socket or bridge networking; a guest agent in the guest reports them';

export class VmProbe {
  unavailable: StatsUnavailable = {};
  netSource: string | null = null;
  private threads: { index: number; tid: number }[] | null = null;
  private balloonPath: string | null | undefined;
  private pollingSet = false;

  constructor(private readonly d: ProbeDeps) {
    if (NO_PROC_REASON) this.unavailable = { cpu: NO_PROC_REASON, vcpus: NO_PROC_REASON, rss: NO_PROC_REASON };
  }

  get pid(): number {
    return this.d.pid;
  }

  private async qmp<T>(command: string, args?: object): Promise<T> {
    this.d.onQmp();
    return this.d.qmp().execute<T>(command, args, { timeoutMs: 2000 });
  }

  async read(): Promise<RawReading> {
    const [procTicks, rssBytes, threads, disk, balloon, net] = await Promise.all([
      NO_PROC_REASON ? null : processTicks(this.d.pid).catch(() => null),
      NO_PROC_REASON ? null : processRss(this.d.pid).catch(() => null),
      this.readThreads(),
      this.readDisks(),
      this.readBalloon(),
      this.readNet(),
    ]);
    return { t: Date.now(), mono: performance.now(), procTicks, rssBytes, threads, disk, ...balloon, net };
  }

  private async readThreads(): Promise<RawReading['threads']> {
    if (!this.threads) {
      try {
        const cpus = await this.qmp<{ 'cpu-index': number; 'thread-id': number }[]>('query-cpus-fast');
        this.threads = cpus.map((c) => ({ index: c['cpu-index'], tid: c['thread-id'] }));
      } catch (e) {
        this.unavailable.vcpus = `query-cpus-fast failed: ${(e as Error).message}`;
        this.threads = [];
      }
    }
    if (NO_PROC_REASON) return this.threads.map((th) => ({ ...th, ticks: null }));
    return Promise.all(this.threads.map(async (th) => ({ ...th, ticks: await threadTicks(this.d.pid, th.tid).catch(() => null) })));
  }

  private async readDisks(): Promise<DiskCounters | null> {
    try {
      const all = await this.qmp<BlockStats[]>('query-blockstats');
      // Only guest-visible drives: an entry with neither a qdev nor a device name is an
      // internal node, and counting it would double the bytes of the drive above it.
      const drives = all.filter((b) => b.qdev || b.device);
      const sum = (k: 'rd_bytes' | 'wr_bytes' | 'rd_operations' | 'wr_operations') => drives.reduce((s, b) => s + (b.stats?.[k] ?? 0), 0);
      delete this.unavailable.disk;
      return { rdBytes: sum('rd_bytes'), wrBytes: sum('wr_bytes'), rdOps: sum('rd_operations'), wrOps: sum('wr_operations') };
    } catch (e) {
      this.unavailable.disk = `query-blockstats failed: ${(e as Error).message}`;
      return null;
    }
  }

  /** The balloon device's QOM path (for its guest-stats), found once per run; null when none. */
  private async findBalloon(): Promise<string | null> {
    for (const dir of ['/machine/peripheral', '/machine/peripheral-anon']) {
      const kids = await this.qmp<{ name: string; type: string }[]>('qom-list', { path: dir }).catch(() => []);
      const b = kids.find((k) => /^child<virtio-balloon/.test(k.type));
      if (b) return `${dir}/${b.name}`;
    }
    return null;
  }

  private async readBalloon(): Promise<Pick<RawReading, 'balloonActualBytes' | 'guestFreeBytes' | 'guestTotalBytes'>> {
    const none = { balloonActualBytes: null, guestFreeBytes: null, guestTotalBytes: null };
    let actual: number;
    try {
      actual = (await this.qmp<{ actual: number }>('query-balloon')).actual;
    } catch (e) {
      // DeviceNotActive: the VM has no balloon device (or its guest no driver for it yet).
      const absent = (e as { errorClass?: string }).errorClass === 'DeviceNotActive';
      this.unavailable.balloon = absent ? 'this VM has no memory balloon (or its guest has no driver for it)' : `query-balloon failed: ${(e as Error).message}`;
      this.unavailable.guestMemory = "the guest's free memory comes from the balloon's statistics";
      return none;
    }
    delete this.unavailable.balloon;
    if (this.balloonPath === undefined) this.balloonPath = await this.findBalloon();
    if (!this.balloonPath) {
      this.unavailable.guestMemory = 'the balloon device was not found in QOM, so its guest statistics cannot be read';
      return { ...none, balloonActualBytes: actual };
    }
    try {
      // The guest sends statistics only once an interval is set; 2 s is QEMU's documented
      // example and costs the guest nothing measurable.
      if (!this.pollingSet) {
        await this.qmp('qom-set', { path: this.balloonPath, property: 'guest-stats-polling-interval', value: 2 });
        this.pollingSet = true;
      }
      const gs = await this.qmp<{ stats: Record<string, number> }>('qom-get', { path: this.balloonPath, property: 'guest-stats' });
      // QEMU gives -1 for a statistic the guest has not (yet) reported.
      const val = (k: string) => (typeof gs.stats[k] === 'number' && gs.stats[k] >= 0 ? gs.stats[k] : null);
      const free = val('stat-free-memory');
      const total = val('stat-total-memory');
      if (free == null) this.unavailable.guestMemory = "the guest's balloon driver has not reported its memory yet";
      else delete this.unavailable.guestMemory;
      return { balloonActualBytes: actual, guestFreeBytes: free, guestTotalBytes: total };
    } catch (e) {
      this.unavailable.guestMemory = `balloon statistics unreadable: ${(e as Error).message}`;
      return { ...none, balloonActualBytes: actual };
    }
  }

  private async readNet(): Promise<RawReading['net']> {
    const ifs = await this.d.agentInterfaces().catch(() => null);
    if (!ifs) {
      this.unavailable.net = NET_REASON;
      this.netSource = null;
      return null;
    }
    let rx = 0;
    let tx = 0;
    let any = false;
    for (const i of ifs as { name?: string; statistics?: { 'rx-bytes'?: number; 'tx-bytes'?: number } }[]) {
      if (i.name === 'lo' || !i.statistics) continue;
      rx += i.statistics['rx-bytes'] ?? 0;
      tx += i.statistics['tx-bytes'] ?? 0;
      any = true;
    }
    if (!any) {
      this.unavailable.net = 'the guest agent reports no traffic yet: qemu-ga counts only interfaces that have an address (and versions before 7.1 none)';
      this.netSource = null;
      return null;
    }
    delete this.unavailable.net;
    this.netSource = 'guest agent';
    return { rx, tx };
  }
}
