import { randomUUID, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { VmName } from '../../api/schemas/common.ts';
import { CONFIG_SCHEMA_VERSION, VmConfigSchema, type VmConfig } from '../../api/schemas/vm-config.ts';
import { vmPaths, type VmPaths } from '../paths.ts';
import { readConfig, writeConfig } from './config-store.ts';

// The library on disk: <home>/vms/<uuid>/vm.json (+ disks, NVRAM, TPM state, logs). A VM
// folder appears in one rename, fully built, or not at all: creation happens in a hidden
// staging folder that is removed on any failure.

export interface LibraryEntry {
  id: string;
  paths: VmPaths;
  config: VmConfig | null;
  broken: string | null;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class Library {
  readonly vmsDir: string;
  private entries = new Map<string, LibraryEntry>();
  /**
   * Names of VMs being created (lower-cased). Taken synchronously, before create's first
   * await, so concurrent creates with one name cannot all pass the uniqueness check.
   */
  private readonly pendingNames = new Set<string>();

  constructor(
    readonly home: string,
    private readonly rtRoot: string,
  ) {
    this.vmsDir = join(home, 'vms');
  }

  paths(id: string): VmPaths {
    return vmPaths(this.home, id, this.rtRoot);
  }

  /** (Re)read every VM folder; a broken vm.json marks only that VM broken. */
  async load(): Promise<LibraryEntry[]> {
    await mkdir(this.vmsDir, { recursive: true });
    const names = (await readdir(this.vmsDir)).filter((n) => UUID_RE.test(n));
    const next = new Map<string, LibraryEntry>();
    await Promise.all(
      names.map(async (id) => {
        next.set(id, await this.loadOne(id));
      }),
    );
    this.entries = next;
    return this.list();
  }

  async loadOne(id: string): Promise<LibraryEntry> {
    const paths = this.paths(id);
    try {
      const config = await readConfig(paths.config);
      if (config.id !== id) throw new VireoError('BROKEN_CONFIG', `${paths.config} names id ${config.id} but lives in folder ${id}`);
      const entry = { id, paths, config, broken: null };
      this.entries.set(id, entry);
      return entry;
    } catch (e) {
      const entry = { id, paths, config: null, broken: (e as Error).message };
      this.entries.set(id, entry);
      return entry;
    }
  }

  list(): LibraryEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.config?.name ?? a.id).localeCompare(b.config?.name ?? b.id));
  }

  get(id: string): LibraryEntry | undefined {
    return this.entries.get(id);
  }

  /** A VM by id, id prefix (≥ 8 chars) or exact name. */
  resolve(ref: string): LibraryEntry {
    const byId = this.entries.get(ref);
    if (byId) return byId;
    const byName = [...this.entries.values()].filter((e) => e.config?.name === ref);
    if (byName.length === 1) return byName[0]!;
    if (ref.length >= 8) {
      const byPrefix = [...this.entries.values()].filter((e) => e.id.startsWith(ref));
      if (byPrefix.length === 1) return byPrefix[0]!;
    }
    // A reference is echoed back to say what was not found, but never more than a name's length.
    const shown = ref.length > 80 ? `${ref.slice(0, 80)}… (${ref.length} characters)` : ref;
    throw new VireoError('NOT_FOUND', `no VM named or with id "${shown}": run \`vireo list\` to see the VMs`, { ref: ref.slice(0, 200) });
  }

  /** Name rules plus uniqueness (case-insensitive, as file managers treat names). */
  checkName(name: string, exceptId?: string): string {
    const r = VmName.safeParse(name);
    if (!r.success) throw new VireoError('INVALID_ARGUMENT', `invalid VM name "${name}": ${r.error.issues[0]?.message}`, { field: 'name' });
    const key = r.data.toLowerCase();
    const clash = [...this.entries.values()].find((e) => e.id !== exceptId && e.config?.name.toLowerCase() === key);
    if (clash) throw new VireoError('ALREADY_EXISTS', `a VM named "${r.data}" already exists: choose another name`, { field: 'name', id: clash.id });
    if (this.pendingNames.has(key)) throw new VireoError('ALREADY_EXISTS', `a VM named "${r.data}" is being created right now: choose another name`, { field: 'name' });
    return r.data;
  }

  /**
   * Create a VM folder atomically. `build` fills the staging folder (disks, NVRAM) and returns
   * the final config; if it throws, nothing is left behind.
   */
  async create(name: string, build: (stagingDir: string, id: string) => Promise<VmConfig>): Promise<LibraryEntry> {
    const checked = this.checkName(name);
    const key = checked.toLowerCase();
    // Reserved before the first await; released only once the VM is in `entries` (or failed).
    this.pendingNames.add(key);
    try {
      const id = randomUUID();
      await mkdir(this.vmsDir, { recursive: true });
      const staging = join(this.vmsDir, `.creating-${id}`);
      await mkdir(staging, { recursive: true });
      try {
        const config = await build(staging, id);
        if (config.id !== id || config.name !== checked) throw new VireoError('INTERNAL', 'create: config id/name mismatch');
        await mkdir(join(staging, 'logs'), { recursive: true });
        await writeConfig(join(staging, 'vm.json'), config);
        await rename(staging, this.paths(id).dir);
      } catch (e) {
        await rm(staging, { recursive: true, force: true });
        throw e;
      }
      return await this.loadOne(id);
    } finally {
      this.pendingNames.delete(key);
    }
  }

  async saveConfig(entry: LibraryEntry, config: VmConfig): Promise<LibraryEntry> {
    const renamed = entry.config && config.name.toLowerCase() !== entry.config.name.toLowerCase();
    if (!renamed) {
      await writeConfig(entry.paths.config, config);
      return this.loadOne(entry.id);
    }
    // A rename takes its new name the way a create does: checked and reserved before the
    // first await, so a create (or another rename) racing it cannot end with two VMs one name.
    const key = this.checkName(config.name, entry.id).toLowerCase();
    this.pendingNames.add(key);
    try {
      await writeConfig(entry.paths.config, config);
      return await this.loadOne(entry.id);
    } finally {
      this.pendingNames.delete(key);
    }
  }

  /** Remove a VM folder: renamed away first so a crash mid-delete never leaves a half VM. */
  async remove(id: string): Promise<void> {
    const paths = this.paths(id);
    const trash = join(this.vmsDir, `.deleting-${id}-${randomBytes(3).toString('hex')}`);
    await rename(paths.dir, trash);
    this.entries.delete(id);
    await rm(trash, { recursive: true, force: true });
  }

  /** Leftovers of creations or deletions interrupted by a crash. */
  async sweep(): Promise<void> {
    const names = await readdir(this.vmsDir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((n) => n.startsWith('.creating-') || n.startsWith('.deleting-'))
        .map((n) => rm(join(this.vmsDir, n), { recursive: true, force: true })),
    );
  }
}

export function newMac(): string {
  // 52:54:00 is QEMU's locally administered prefix.
  const b = randomBytes(3);
  return ['52', '54', '00', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

export function baseConfig(id: string, name: string): VmConfig {
  return VmConfigSchema.parse({
    schemaVersion: CONFIG_SCHEMA_VERSION,
    id,
    name,
    createdAt: new Date().toISOString(),
    networks: [{ id: 'net0', mac: newMac() }],
  });
}

export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
