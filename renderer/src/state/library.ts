import { useEffect, useMemo, useReducer, useState } from 'react';
import type { ApiClient } from '../api/client.ts';
import type { HostInfo, Job, VmSummary } from '../../../electron/api/types.ts';
import { sortVms } from '../lib/filter.ts';
import { asWireError, pageAnswer, type WireError } from '../api/client.ts';

// The library as the UI sees it: one vms.list at start (and after a reconnect), then events
// only. vm.state patches a row in place; vm.changed re-reads that one VM.

type State = { byId: Map<string, VmSummary>; loaded: boolean };
type Action =
  | { t: 'load'; vms: VmSummary[] }
  | { t: 'upsert'; vm: VmSummary }
  | { t: 'remove'; id: string }
  | { t: 'state'; id: string; state: VmSummary['state'] }
  | { t: 'runtime'; vm: VmSummary };

function reducer(s: State, a: Action): State {
  switch (a.t) {
    case 'load':
      return { byId: new Map(a.vms.map((v) => [v.id, v])), loaded: true };
    case 'upsert': {
      const byId = new Map(s.byId);
      byId.set(a.vm.id, a.vm);
      return { ...s, byId };
    }
    case 'remove': {
      if (!s.byId.has(a.id)) return s;
      const byId = new Map(s.byId);
      byId.delete(a.id);
      return { ...s, byId };
    }
    case 'state': {
      const old = s.byId.get(a.id);
      if (!old || old.state === a.state) return s;
      const byId = new Map(s.byId);
      byId.set(a.id, { ...old, state: a.state });
      return { ...s, byId };
    }
    case 'runtime': {
      // Only the runtime facts: the state itself may have moved on since vms.get answered.
      const old = s.byId.get(a.vm.id);
      if (!old) return s;
      const byId = new Map(s.byId);
      byId.set(a.vm.id, { ...old, accel: a.vm.accel, crash: a.vm.crash });
      return { ...s, byId };
    }
  }
}

/** A VmDetails is a VmSummary plus more; keep only the summary so rows stay small. */
function toSummary(v: VmSummary): VmSummary {
  const { id, name, os, state, broken, cpus, memoryMiB, createdAt, accel, crash, template } = v;
  return { id, name, os, state, broken, cpus, memoryMiB, createdAt, accel, crash, template: template ?? false };
}

export function useLibrary(client: ApiClient, epoch: number) {
  // Served by `vireo serve`, the page carries the library's first answer: drawn at once, and
  // replaced by this hook's vms.list as soon as the socket answers it.
  const [s, dispatch] = useReducer(reducer, null, (): State => {
    const first = pageAnswer('vms.list');
    return first ? { byId: new Map(first.map((v) => [v.id, v])), loaded: true } : { byId: new Map(), loaded: false };
  });
  const [loadError, setLoadError] = useState<WireError | null>(null);

  useEffect(() => {
    let live = true;
    const offs = [
      client.on('vm.state', (p) => {
        dispatch({ t: 'state', id: p.id, state: p.state });
        // The accelerator a start settled on and a crash report are not in the event; without
        // this re-read a row would show neither until the next vms.list.
        if ((p.state === 'running' && p.previous === 'starting') || p.state === 'crashed') {
          client.call('vms.get', { vm: p.id }).then((vm) => live && dispatch({ t: 'runtime', vm }), () => undefined);
        }
      }),
      client.on('vm.changed', (p) => {
        if (p.removed) return dispatch({ t: 'remove', id: p.id });
        client.call('vms.get', { vm: p.id }).then(
          (vm) => live && dispatch({ t: 'upsert', vm: toSummary(vm) }),
          (e) => {
            // The VM may be gone by the time we ask for it.
            if (asWireError(e).code === 'NOT_FOUND' && live) dispatch({ t: 'remove', id: p.id });
          },
        );
      }),
    ];
    client.call('vms.list', {}).then(
      (vms) => {
        if (!live) return;
        setLoadError(null);
        dispatch({ t: 'load', vms });
      },
      (e) => live && setLoadError(asWireError(e)),
    );
    return () => {
      live = false;
      offs.forEach((off) => off());
    };
  }, [client, epoch]);

  const vms = useMemo(() => sortVms([...s.byId.values()]), [s.byId]);
  return { vms, byId: s.byId, loaded: s.loaded, loadError };
}

export function useJobs(client: ApiClient, epoch: number) {
  const [jobs, setJobs] = useState<Map<string, Job>>(new Map());
  useEffect(() => {
    let live = true;
    const off = client.on('job.update', (job) =>
      setJobs((m) => {
        const n = new Map(m);
        n.set(job.id, job);
        return n;
      }),
    );
    client.call('jobs.list', {}).then(
      (list) => live && setJobs((m) => {
        const n = new Map(list.map((j) => [j.id, j] as const));
        // Updates that arrived while the list was in flight are newer.
        for (const [id, j] of m) n.set(id, j);
        return n;
      }),
      () => undefined,
    );
    return () => {
      live = false;
      off();
    };
  }, [client, epoch]);
  const list = useMemo(() => [...jobs.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt)), [jobs]);
  return list;
}

export function useHost(client: ApiClient, epoch: number) {
  const [host, setHost] = useState<HostInfo | null>(null);
  const [error, setError] = useState<WireError | null>(null);
  useEffect(() => {
    let live = true;
    client.call('host.info', {}).then(
      (h) => live && (setHost(h), setError(null)),
      (e) => live && setError(asWireError(e)),
    );
    return () => {
      live = false;
    };
  }, [client, epoch]);
  return { host, error, setHost };
}
