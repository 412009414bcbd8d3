import { useEffect, useState } from 'react';
import type { StatsUnavailable, VmStatsEvent, VmStatsSample } from '../../../../electron/api/types.ts';
import { asWireError, type ApiClient, type WireError } from '../../api/client.ts';

// A viewer's side of the sampler's lease: take a watch while mounted, renew it well inside
// its lease, end it on unmount. The engine samples only while some viewer holds one.

const KEEP = 600;

/** Hold a stats watch on one VM (or on every running VM with vmId null) while mounted. */
export function useStatsWatch(client: ApiClient, vmId: string | null, onError: (e: WireError) => void): void {
  useEffect(() => {
    let watchId: string | null = null;
    let timer: ReturnType<typeof setInterval> | null = null;
    let live = true;
    const take = () =>
      client.call('stats.watch', vmId ? { vm: vmId } : {}).then((w) => {
        if (!live) return void client.call('stats.unwatch', { watchId: w.watchId }).catch(() => {});
        watchId = w.watchId;
        timer = setInterval(() => {
          // A lapsed lease (a laptop asleep past it) is taken anew rather than lost.
          if (watchId) client.call('stats.watch', { ...(vmId ? { vm: vmId } : {}), watchId }).catch(() => ((watchId = null), take()));
        }, w.leaseMs / 3);
      }, (e) => live && onError(asWireError(e)));
    void take();
    return () => {
      live = false;
      if (timer) clearInterval(timer);
      if (watchId) void client.call('stats.unwatch', { watchId }).catch(() => {});
    };
  }, [client, vmId, onError]);
}

export interface VmSeries {
  samples: VmStatsSample[];
  unavailable: StatsUnavailable;
  netSource: string | null;
  error: WireError | null;
}

/** One VM's kept history, then every streamed sample, while this component watches it. */
export function useVmStats(client: ApiClient, vmId: string): VmSeries {
  const [state, setState] = useState<VmSeries>({ samples: [], unavailable: {}, netSource: null, error: null });
  const [onError] = useState(() => (e: WireError) => setState((s) => ({ ...s, error: e })));
  useStatsWatch(client, vmId, onError);
  useEffect(() => {
    setState({ samples: [], unavailable: {}, netSource: null, error: null });
    let live = true;
    const add = (e: VmStatsEvent) =>
      setState((s) => ({
        ...s,
        samples: s.samples.at(-1)?.t === e.sample.t ? s.samples : [...s.samples, e.sample].slice(-KEEP),
        unavailable: e.unavailable,
        netSource: e.netSource,
      }));
    const off = client.on('stats.sample', (e) => e.vmId === vmId && add(e));
    client.call('stats.history', { vm: vmId }).then(
      (h) =>
        live &&
        setState((s) => {
          // Samples streamed while the history was on its way are newer than all of it.
          const last = h.samples.at(-1)?.t ?? 0;
          return { ...s, samples: [...h.samples, ...s.samples.filter((x) => x.t > last)].slice(-KEEP), unavailable: { ...h.unavailable, ...s.unavailable }, netSource: s.netSource ?? h.netSource };
        }),
      (e) => live && setState((s) => ({ ...s, error: asWireError(e) })),
    );
    return () => {
      live = false;
      off();
    };
  }, [client, vmId]);
  return state;
}
