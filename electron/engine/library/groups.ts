import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { VireoError } from '../../api/errors.ts';
import type { VmGroup } from '../../api/library-types.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import { GROUP_NAME_MAX } from '../../shared/library-rules.ts';

// Groups of VMs (the sidebar's folders), one small file per library: <home>/groups.json,
// written atomically. A VM is in at most one group; VMs deleted since are dropped when read.
// Changes are serialised in this process; the library has one owner (engine/owner/), so no
// other process writes the file at the same time.

const FileSchema = z.object({
  version: z.literal(1),
  groups: z.array(z.object({ id: z.string().min(1), name: z.string().min(1).max(GROUP_NAME_MAX), vms: z.array(z.string()) })),
});

export class GroupStore {
  readonly file: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(home: string, private readonly vmExists: (id: string) => boolean) {
    this.file = join(home, 'groups.json');
  }

  async list(): Promise<VmGroup[]> {
    return (await this.#read()).map((g) => ({ ...g, vms: g.vms.filter(this.vmExists) }));
  }

  /** The group a reference (id, or name ignoring case) names, else NOT_FOUND listing the groups. */
  async resolve(ref: string): Promise<VmGroup> {
    return find(await this.list(), ref);
  }

  create(name: string): Promise<VmGroup> {
    return this.#change((groups) => {
      const clean = checkName(name, groups);
      const g = { id: randomUUID(), name: clean, vms: [] };
      groups.push(g);
      return g;
    });
  }

  rename(ref: string, name: string): Promise<VmGroup> {
    return this.#change((groups) => {
      const g = find(groups, ref);
      g.name = checkName(name, groups.filter((o) => o !== g));
      return g;
    });
  }

  delete(ref: string): Promise<VmGroup> {
    return this.#change((groups) => {
      const g = find(groups, ref);
      groups.splice(groups.indexOf(g), 1);
      return g;
    });
  }

  /** Put a VM into a group (out of any other), or into none with group null. */
  move(vmId: string, ref: string | null): Promise<VmGroup | null> {
    return this.#change((groups) => {
      const target = ref === null ? null : find(groups, ref);
      for (const g of groups) if (g !== target) g.vms = g.vms.filter((v) => v !== vmId);
      if (target && !target.vms.includes(vmId)) target.vms.push(vmId);
      return target;
    });
  }

  async #read(): Promise<VmGroup[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new VireoError('IO_ERROR', `cannot read the library's groups from ${this.file}: ${(e as Error).message}`);
    }
    try {
      return FileSchema.parse(JSON.parse(text)).groups;
    } catch (e) {
      throw new VireoError('BROKEN_CONFIG', `the library's groups file ${this.file} is not valid (${(e as Error).message.split('\n')[0]}): fix or delete it (the VMs are not affected, only their grouping)`);
    }
  }

  #change<T>(fn: (groups: VmGroup[]) => T): Promise<T> {
    const next = this.#queue.then(async () => {
      const groups = (await this.#read()).map((g) => ({ ...g, vms: g.vms.filter(this.vmExists) }));
      const out = fn(groups);
      await writeJsonAtomic(this.file, { version: 1, groups });
      return out;
    });
    this.#queue = next.catch(() => {});
    return next;
  }
}

function find(groups: VmGroup[], ref: string): VmGroup {
  const g = groups.find((x) => x.id === ref) ?? groups.find((x) => x.name.toLowerCase() === ref.trim().toLowerCase());
  if (!g) {
    const names = groups.map((x) => `"${x.name}"`).join(', ');
    throw new VireoError('NOT_FOUND', `no group "${ref}" in this library: ${names ? `the groups are ${names}` : 'it has no groups yet (create one with vireo group add NAME)'}`, { group: ref });
  }
  return g;
}

function checkName(name: string, others: VmGroup[]): string {
  const clean = name.trim();
  if (!clean) throw new VireoError('INVALID_ARGUMENT', 'group name is empty: give the group a name', { field: 'name' });
  if (clean.length > GROUP_NAME_MAX) throw new VireoError('INVALID_ARGUMENT', `group name is longer than ${GROUP_NAME_MAX} characters: shorten it`, { field: 'name' });
  if (others.some((g) => g.name.toLowerCase() === clean.toLowerCase())) {
    throw new VireoError('ALREADY_EXISTS', `a group named "${clean}" already exists: choose another name`, { field: 'name' });
  }
  return clean;
}
