import { useEffect, useRef, useState } from 'react';
import { readLastView, writeLastView } from '../lib/last-view.ts';

/**
 * Selects the library's last selected VM once the library (`home`) and its VMs are known, and
 * remembers every later selection. A VM deleted since is simply not selected.
 */
export function useLastVm(home: string | null, loaded: boolean, exists: (id: string) => boolean, selectedId: string | null, select: (id: string) => void): void {
  const restored = useRef(false);
  useEffect(() => {
    if (restored.current || !home || !loaded) return;
    restored.current = true;
    const { vmId } = readLastView(localStorage, home);
    if (!selectedId && vmId && exists(vmId)) select(vmId);
  }, [home, loaded, exists, selectedId, select]);
  useEffect(() => {
    if (home && restored.current && selectedId) writeLastView(localStorage, home, { vmId: selectedId });
  }, [home, selectedId]);
}

/** A tab state that starts on the library's last tab (when it is one of `tabs`) and is remembered. */
export function useLastTab<T extends string>(home: string | null, tabs: readonly T[], fallback: T): [T, (t: T) => void] {
  const [tab, setTab] = useState<T>(() => {
    const last = home ? readLastView(localStorage, home).tab : null;
    return tabs.find((t) => t === last) ?? fallback;
  });
  const choose = (t: T) => {
    setTab(t);
    if (home) writeLastView(localStorage, home, { tab: t });
  };
  return [tab, choose];
}
