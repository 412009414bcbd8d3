import { useEffect, useRef, useState } from 'react';
import type { Job } from '../../../../electron/api/types.ts';
import { useClient } from '../../api/context.tsx';

/** The job our own call started: the first of this kind, with this title start, begun after `begin()`. */
export function useJobProgress(kind: Job['kind'], titleStart: string) {
  const client = useClient();
  const since = useRef<string | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const match = useRef({ kind, titleStart });
  match.current = { kind, titleStart };
  useEffect(
    () =>
      client.on('job.update', (j) => {
        if (!since.current || j.kind !== match.current.kind || !j.title.startsWith(match.current.titleStart) || j.startedAt < since.current) return;
        setJob((cur) => (cur && cur.id !== j.id ? cur : j));
      }),
    [client],
  );
  return {
    job,
    begin() {
      since.current = new Date(Date.now() - 1000).toISOString();
      setJob(null);
    },
    cancel: () => (job && job.state === 'running' ? client.call('jobs.cancel', { id: job.id }).then(() => undefined) : Promise.resolve()),
  };
}
