import { useEffect, useState } from 'react';
import type { ApiClient } from '../../api/client.ts';
import type { VmState } from '../../../../electron/api/types.ts';
import { FACE_REFRESH_MS } from '../../../../electron/shared/library-rules.ts';

// A VM's face (its screen thumbnail) for its card or row. While the VM runs, a new one every
// FACE_REFRESH_MS, only while the page is visible and only for rows in view (the list is
// virtualised: rows out of view are not mounted); stopped, the one kept from its last run,
// read once. Faces are cached across remounts, so scrolling back does not ask again.

const cache = new Map<string, { png: string | null; kept: boolean }>();

const shows = (s: VmState) => s === 'running' || s === 'paused';

export function useFace(client: ApiClient, id: string, state: VmState): string | null {
  const [png, setPng] = useState<string | null>(() => cache.get(id)?.png ?? null);
  const live = shows(state);
  // The face kept at a stop is newer than the cached one: read it again once the VM is down.
  const down = state === 'stopped' || state === 'crashed' || state === 'saved';
  useEffect(() => {
    let alive = true;
    const fetchFace = async () => {
      if (document.visibilityState !== 'visible') return;
      try {
        const f = await client.call('vms.face', { vm: id });
        cache.set(id, { png: f.png, kept: !f.live });
        if (alive) setPng(f.png);
      } catch {
        // gone or mid-transition: keep showing what we had
      }
    };
    if (!live) {
      const c = cache.get(id);
      if (c?.kept) setPng(c.png);
      else if (down || !c) void fetchFace();
      return () => {
        alive = false;
      };
    }
    void fetchFace();
    const timer = setInterval(() => void fetchFace(), FACE_REFRESH_MS);
    const onVisible = () => document.visibilityState === 'visible' && void fetchFace();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      alive = false;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [client, id, live, down]);
  return png;
}
