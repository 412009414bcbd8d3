// The VM and the tab a person last looked at, per library (web and desktop alike keep it in
// the renderer's localStorage): reopening the app or reloading the page comes back to them.

export interface LastView {
  vmId: string | null;
  tab: string | null;
}

const key = (library: string) => `vireo.lastView:${library}`;

export function readLastView(store: Pick<Storage, 'getItem'>, library: string): LastView {
  try {
    const v = JSON.parse(store.getItem(key(library)) ?? '{}') as Partial<LastView>;
    return { vmId: typeof v.vmId === 'string' ? v.vmId : null, tab: typeof v.tab === 'string' ? v.tab : null };
  } catch {
    // a value some other version wrote, or none: start from the library overview
    return { vmId: null, tab: null };
  }
}

export function writeLastView(store: Pick<Storage, 'getItem' | 'setItem'>, library: string, patch: Partial<LastView>): void {
  try {
    store.setItem(key(library), JSON.stringify({ ...readLastView(store, library), ...patch }));
  } catch {
    // storage full or disabled (private window): remembering is a nicety, not a need
  }
}
