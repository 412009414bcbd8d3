import type { Caller } from '../../api/define.ts';
import type { Handlers } from '../../api/contract.ts';
import type { GroupList, GroupRunResult, VmGroup } from '../../api/library-types.ts';
import { toWireError } from '../../api/errors.ts';
import type { EngineParts } from '../parts.ts';
import { isActive } from '../../shared/states.ts';
import { GroupStore } from './groups.ts';
import { keptFace, lastRan, takeFace } from './faces.ts';

// The library area: groups (groups.*), faces (vms.face) and last use (vms.lastUsed).
// Starting and stopping a group goes through the engine's own vms.start / vms.stop handlers
// (given as `route`), so each VM gets every check a single start gets (overcommit, bases of
// throwaway VMs, templates).

type Methods = 'groups.list' | 'groups.create' | 'groups.rename' | 'groups.delete' | 'groups.move' | 'groups.start' | 'groups.stop' | 'vms.face' | 'vms.lastUsed';

export function libraryArea(p: EngineParts, route: () => Handlers): { handlers: Pick<Handlers, Methods>; store: GroupStore } {
  const { library, vms, bus } = p;
  const store = new GroupStore(p.home, (id) => !!library.get(id));
  const listed = async (): Promise<GroupList> => ({ groups: await store.list() });
  const changed = async (): Promise<GroupList> => {
    bus.emit('groups.changed', {});
    return listed();
  };

  // The face at the moment a stop begins is the one a stopped VM shows.
  bus.on('vm.state', (e) => {
    if (e.state !== 'stopping') return;
    const entry = library.get(e.id);
    if (entry) void takeFace(entry, vms.machineFor(entry)).catch(() => {});
  });

  const isTemplate = (id: string) => !!(library.get(id)?.config as { template?: boolean } | null | undefined)?.template;

  async function runGroup(ref: string, c: Caller, what: 'start' | 'stop', force?: boolean): Promise<GroupRunResult> {
    const g: VmGroup = await store.resolve(ref);
    const h = route();
    const one = async (id: string): Promise<GroupRunResult['results'][number]> => {
      const entry = library.get(id);
      const name = entry?.config?.name ?? id;
      const active = entry ? isActive(vms.machineFor(entry).state) : false;
      if (what === 'start' && isTemplate(id)) return { vm: id, name, outcome: 'skipped', message: 'a template is not started: create a VM from it' };
      if (what === 'start' && active) return { vm: id, name, outcome: 'skipped', message: 'already running' };
      if (what === 'stop' && !active) return { vm: id, name, outcome: 'skipped', message: 'not running' };
      try {
        if (what === 'start') await h['vms.start']({ vm: id }, c);
        else await h['vms.stop']({ vm: id, ...(force ? { force } : {}) }, c);
        return { vm: id, name, outcome: 'done', message: null };
      } catch (e) {
        return { vm: id, name, outcome: 'failed', message: toWireError(e).message };
      }
    };
    // Starts one after another: each start's overcommit check must see the VMs started before it.
    // Stops together: a guest's shutdown can take its whole timeout.
    const results: GroupRunResult['results'] = [];
    if (what === 'start') for (const id of g.vms) results.push(await one(id));
    else results.push(...(await Promise.all(g.vms.map(one))));
    return { group: g.name, results };
  }

  return {
    store,
    handlers: {
      'groups.list': () => listed(),
      'groups.create': async (a) => (await store.create(a.name), changed()),
      'groups.rename': async (a) => (await store.rename(a.group, a.name), changed()),
      'groups.delete': async (a) => (await store.delete(a.group), changed()),
      'groups.move': async (a) => {
        const entry = vms.resolve(a.vm);
        await store.move(entry.id, a.group);
        return changed();
      },
      'groups.start': (a, c) => runGroup(a.group, c, 'start'),
      'groups.stop': (a, c) => runGroup(a.group, c, 'stop', a.force),
      'vms.face': async (a) => {
        const entry = vms.resolve(a.vm);
        const m = vms.machineFor(entry);
        // A running VM whose screen cannot be taken right now (mid-start, no display) shows its last face.
        if (m.state === 'running' || m.state === 'paused') {
          const face = await takeFace(entry, m).catch(() => null);
          if (face) return face;
        }
        return keptFace(entry);
      },
      'vms.lastUsed': async () => {
        const now = new Date().toISOString();
        const pairs = await Promise.all(
          library.list().map(async (e) => [e.id, isActive(vms.machineFor(e).state) ? now : await lastRan(e)] as const),
        );
        return { lastUsed: Object.fromEntries(pairs) };
      },
    },
  };
}
