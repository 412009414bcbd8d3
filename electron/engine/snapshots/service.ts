import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import type { EventBus } from '../../api/dispatch.ts';
import type { SnapshotQuiesce, SnapshotTree, VmState } from '../../api/types.ts';
import type { HostService } from '../host.ts';
import type { Jobs, JobContext } from '../jobs.ts';
import type { VmService } from '../vm/service.ts';
import type { LibraryEntry } from '../library/library.ts';
import { requireState } from '../vm/state-machine.ts';
import { writeFileAtomic } from '../util/fs-atomic.ts';
import { dropNode, loadMeta, newSnapshotId, reconcile, saveMeta, toApiNodes, type ImageTags, type SnapshotMeta } from './meta.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { snapshotAvailability, snapshotImages, type SnapshotImage } from './images.ts';
import { removeNodeFiles, restoreTpm, saveTpm, thumbPath } from './files.ts';
import { restoreLive, restoreOutcome, saveLive } from './live.ts';
import { assertRoomForLive, explainLiveFailure, liveRoom, type LiveRoom } from './live-space.ts';
import { clearPauseMarker, decideAfterInterruptedSnapshot, readPauseMarker } from './pause-marker.ts';
import { liveSnapshotBlocker } from '../shares/availability.ts';
import { assertUniqueSnapshotName } from './names.ts';
import { readImageTags } from './tags.ts';
import { adoptLegacyV86, v86Purge } from './v86-source.ts';

// The snapshot tree of a VM and its clones. The truth is inside the qcow2 images (internal
// snapshots: disks, plus the UEFI variable store when it is qcow2); snapshots.json adds names,
// the tree and thumbnails, and is reconciled with the images on every read (see meta.ts).
// Live snapshots (VM running or paused) hold RAM and device state and go through QMP jobs;
// offline ones (VM stopped) through qemu-img. swtpm's state is plain files, copied beside.

const LIVE_STATES: VmState[] = ['running', 'paused'];
const JOB_TIMEOUT_MS = 60 * 60_000;

export class SnapshotService {
  constructor(
    private readonly vms: VmService,
    private readonly host: HostService,
    private readonly jobs: Jobs,
    private readonly bus: EventBus,
  ) {}

  /** The guest agent's freeze around a live snapshot (engine/agent/ sets it); without it, none. */
  quiesce: ((vmId: string) => Promise<{ result: SnapshotQuiesce; thaw: () => Promise<void> }>) | null = null;

  /** The reconciled snapshot metadata, taken in turn with the VM's other operations (clones read it). */
  meta(entry: LibraryEntry): Promise<SnapshotMeta> {
    return this.lockedList(entry);
  }

  /** Writable images in snapshot order: disks first (the first holds the RAM state), then NVRAM. */
  images(entry: LibraryEntry): SnapshotImage[] {
    return snapshotImages(entry, (e, f) => this.vms.diskPath(e, f));
  }

  /** Why snapshots cannot work for this VM (null when they can), said before anyone tries. */
  /** Other areas' reasons a VM cannot be snapshotted now (a passed-through USB device); null = no objection. */
  readonly blockers: Array<(entry: LibraryEntry) => string | null> = [];

  availability(entry: LibraryEntry): { available: boolean; reason: string | null } {
    for (const b of this.blockers) {
      const reason = b(entry);
      if (reason) return { available: false, reason };
    }
    const a = snapshotAvailability(entry, (e, f) => this.vms.diskPath(e, f));
    const shares = a.available && this.vms.machineFor(entry).isActive ? liveSnapshotBlocker(entry.config) : null;
    return shares ? { available: false, reason: shares } : a;
  }

  private requireAvailable(entry: LibraryEntry, inPage?: string) {
    if (inPage && entry.config?.backend === 'wasm/v86') throw new VireoError('UNSUPPORTED', `a snapshot of "${entry.config.name}" (wasm/v86) is ${inPage} in the window or tab that runs it: its Screen tab, or its Snapshots tab there`);
    const a = this.availability(entry);
    if (!a.available) throw new VireoError('UNSUPPORTED', `snapshots are not available for "${entry.config?.name ?? entry.id}": ${a.reason}`, { reason: a.reason });
  }

  // ---- serialisation and reconciliation --------------------------------------------------

  /**
   * One operation per VM at a time inside this engine, shared with start, delete and settings
   * (VmService.locks). The VM is looked up again once it is this operation's turn: a delete
   * that ran first leaves NOT_FOUND, never a snapshot written into a removed folder.
   */
  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.vms.locks.run(id, 'a snapshot operation', async () => {
      this.vms.resolve(id);
      return fn();
    });
  }

  /** What each image holds (snapshots/tags.ts: QEMU's view while it runs, qemu-img's, or a v86 VM's folders). */
  private readTags(entry: LibraryEntry, imgs: SnapshotImage[]): Promise<ImageTags> {
    return readImageTags(entry, this.vms.machineFor(entry), imgs, () => this.host.qemuImg());
  }

  /** Reads, reconciles and (when needed) repairs; returns metadata the images agree with. */
  private async reconciled(entry: LibraryEntry): Promise<SnapshotMeta> {
    const file = entry.paths.snapshotsMeta;
    const loaded = await loadMeta(file);
    const meta = entry.config?.backend === 'wasm/v86' ? await adoptLegacyV86(entry, loaded) : loaded; // the first v86 layout, moved in
    if (!this.availability(entry).available) return meta;
    const imgs = this.images(entry);
    let tags: ImageTags;
    try {
      tags = await this.readTags(entry, imgs);
    } catch {
      // An unreadable image must not make the tree forget snapshots the image may still hold.
      return meta;
    }
    const m = this.vms.machineFor(entry);
    const pending = meta.pending;
    const v86 = entry.config?.backend === 'wasm/v86'; // its folders are the images, no qemu-img (v86-source.ts)
    const img = v86 ? null : new QemuImg(await this.host.qemuImg());
    if (pending && !m.isActive && img) {
      for (const i of imgs) await img.check(i.path, { format: 'qcow2', repair: 'leaks' }).catch(() => {});
    }
    const outcome = pending?.op === 'restore' ? await restoreOutcome(m, pending.id) : undefined;
    const r = reconcile({ meta, images: tags, active: m.isActive, restoreOutcome: outcome });
    let next = r.meta;
    const byNode = new Map(imgs.map((i) => [i.node, i.path]));
    for (const p of r.purge) {
      await (img ? img.snapshotDelete(byNode.get(p.image)!, p.tag) : v86Purge(entry, p.tag));
    }
    if (r.purge.length) next = { ...next, trash: [] };
    if (r.redoRestore && img) {
      // Interrupted while stopped: the images may be half restored, so finish the job.
      for (const i of imgs) await img.snapshotApply(i.path, r.redoRestore);
      await restoreTpm(entry, r.redoRestore);
      next = { ...next, current: r.redoRestore, pending: null };
    }
    for (const id of r.dropped) await removeNodeFiles(entry, id);
    const thumbsFixed = next.nodes.map((n) => ({ ...n, hasThumbnail: existsSync(thumbPath(entry, n.id)) }));
    const thumbsChanged = thumbsFixed.some((n, i) => n.hasThumbnail !== next.nodes[i]!.hasThumbnail);
    next = { ...next, nodes: thumbsFixed };
    if (r.changed || r.purge.length || r.redoRestore || thumbsChanged || meta !== loaded) {
      await saveMeta(file, next);
      this.bus.emit('snapshots.changed', { vmId: entry.id });
    }
    return next;
  }

  private tree(entry: LibraryEntry, meta: SnapshotMeta): SnapshotTree {
    const a = this.availability(entry);
    return { vmId: entry.id, nodes: toApiNodes(meta), current: meta.current, available: a.available, reason: a.reason };
  }

  private lockedList(entry: LibraryEntry): Promise<SnapshotMeta> {
    return this.withLock(entry.id, () => this.reconciled(entry));
  }

  private findNode(entry: LibraryEntry, meta: SnapshotMeta, ref: string) {
    const byId = meta.nodes.find((n) => n.id === ref);
    if (byId) return byId;
    const byName = meta.nodes.filter((n) => n.name === ref);
    if (byName.length === 1) return byName[0]!;
    const vm = entry.config?.name ?? entry.id;
    if (byName.length > 1) {
      throw new VireoError('INVALID_ARGUMENT', `"${vm}" has ${byName.length} snapshots named "${ref}": use the id (${byName.map((n) => n.id).join(', ')})`, { ids: byName.map((n) => n.id) });
    }
    throw new VireoError('NOT_FOUND', `"${vm}" has no snapshot "${ref}": run \`vireo snapshot list ${vm}\` to see them`, { snapshot: ref });
  }

  // ---- after an engine died mid-snapshot -------------------------------------------------

  private pauseNotes = new Map<string, string>();

  /**
   * Guests a dead engine left paused for a live snapshot: resumed once QEMU's snapshot job is
   * over, or kept paused with the reason in pauseNote(). Runs in the background (QEMU may still
   * be writing the RAM state); call once after the machines are attached (index.ts does).
   */
  recoverInterrupted(): Promise<void> {
    const all = this.vms.library.list().map(async (entry) => {
      const marker = await readPauseMarker(entry.paths);
      if (!marker) return;
      const m = this.vms.machineFor(entry);
      if (!m.isActive) return clearPauseMarker(entry.paths);
      await this.withLock(entry.id, async () => {
        try {
          const outcome = await decideAfterInterruptedSnapshot(m.monitor('resume'), marker);
          if (outcome.action === 'keep-paused') {
            this.pauseNotes.set(entry.id, outcome.reason);
            return;
          }
          if (outcome.action === 'resume' && m.state === 'paused') await m.resume();
          this.pauseNotes.delete(entry.id);
          await clearPauseMarker(entry.paths);
        } catch (e) {
          this.pauseNotes.set(entry.id, `left paused by an engine that stopped during snapshot ${marker.snapshot}, and it could not be resumed: ${(e as Error).message}`);
        }
        this.bus.emit('vm.changed', { id: entry.id });
      });
    });
    return Promise.all(all).then(() => undefined);
  }

  /** Why a VM found paused after an interrupted snapshot was not resumed (null: nothing to say). */
  pauseNote(id: string): string | null {
    const m = this.vms.allMachines().find((x) => x.id === id);
    return m?.state === 'paused' ? (this.pauseNotes.get(id) ?? null) : null;
  }

  // ---- API ------------------------------------------------------------------------------

  async list(ref: string): Promise<SnapshotTree> {
    const entry = this.vms.resolve(ref);
    return this.tree(entry, await this.lockedList(entry));
  }

  async save(ref: string, name: string, description: string): Promise<SnapshotTree> {
    const entry = this.vms.resolve(ref);
    return this.withLock(entry.id, async () => {
      this.requireAvailable(entry, 'taken');
      const vm = entry.config!.name;
      const m = this.vms.machineFor(entry);
      requireState('take a snapshot of', vm, m.state, ['running', 'paused', 'stopped', 'crashed']);
      const meta = await this.reconciled(entry);
      assertUniqueSnapshotName(vm, meta.nodes, name);
      const live = LIVE_STATES.includes(m.state);
      const id = newSnapshotId();
      const node = {
        id,
        name: name.trim(),
        description,
        createdAt: new Date().toISOString(),
        parent: meta.current,
        live,
        vmState: (live ? m.state : 'stopped') as 'running' | 'paused' | 'stopped',
        hasThumbnail: false,
        quiesce: null as SnapshotQuiesce | null,
      };
      // A live snapshot whose RAM cannot fit is refused before anything is written.
      const room: LiveRoom | null = live ? liveRoom(vm, this.images(entry)[0]!.path, entry.config!.system.memoryMiB) : null;
      if (room) await assertRoomForLive(room);
      await saveMeta(entry.paths.snapshotsMeta, { ...meta, pending: { op: 'save', node, startedAt: node.createdAt } });
      let thumb: Buffer | null = null;
      try {
        await this.jobs.run({ kind: 'snapshot-save', title: `Snapshot "${node.name}" of "${vm}"`, vmId: entry.id, cancellable: false }, async (job) => {
          if (live) ({ thumb, quiesce: node.quiesce } = await saveLive(entry, m, this.images(entry), id, job, this.quiesce));
          else await this.saveOffline(entry, id, job);
        });
      } catch (e) {
        // QEMU died under the job: let its exit be seen, so reconcile works on closed images.
        if (e instanceof VireoError && e.code === 'QMP_DISCONNECTED') await m.waitUntilStopped(5000);
        // The pending marker stays: reconcile keeps the snapshot if QEMU completed it, else
        // purges whatever part of it reached the images.
        await this.reconciled(entry).catch(() => {});
        throw room ? await explainLiveFailure(e, room) : e;
      }
      if (thumb) {
        // The snapshot is taken; a disk too full for its picture must not undo that.
        node.hasThumbnail = await writeFileAtomic(thumbPath(entry, id), thumb).then(() => true, () => false);
      }
      const done: SnapshotMeta = { ...meta, nodes: [...meta.nodes, node], current: id, pending: null };
      await saveMeta(entry.paths.snapshotsMeta, done);
      this.bus.emit('snapshots.changed', { vmId: entry.id });
      return this.tree(entry, done);
    });
  }

  private async saveOffline(entry: LibraryEntry, id: string, job: JobContext) {
    const imgs = this.images(entry);
    const qemuImg = new QemuImg(await this.host.qemuImg());
    for (const [i, img] of imgs.entries()) {
      await qemuImg.snapshotCreate(img.path, id);
      job.progress((i + 1) / (imgs.length + 1));
    }
    await saveTpm(entry, id);
  }

  async restore(ref: string, snapshot: string): Promise<SnapshotTree> {
    const entry = this.vms.resolve(ref);
    const startLoadvm = await this.withLock(entry.id, async () => {
      this.requireAvailable(entry, 'restored');
      const vm = entry.config!.name;
      const m = this.vms.machineFor(entry);
      requireState('restore a snapshot of', vm, m.state, ['running', 'paused', 'stopped', 'crashed']);
      const meta = await this.reconciled(entry);
      const node = this.findNode(entry, meta, snapshot);
      const active = LIVE_STATES.includes(m.state);
      if (active && !node.live) {
        throw new VireoError(
          'INVALID_STATE',
          `snapshot "${node.name}" was taken while "${vm}" was stopped and holds no memory state: shut the VM down, then restore it`,
          { snapshot: node.id, state: m.state },
        );
      }
      const pendingMeta: SnapshotMeta = { ...meta, pending: { op: 'restore', id: node.id, startedAt: new Date().toISOString() } };
      await saveMeta(entry.paths.snapshotsMeta, pendingMeta);
      const title = `Restore "${node.name}" of "${vm}"`;
      if (active) {
        await this.jobs.run({ kind: 'snapshot-restore', title, vmId: entry.id, cancellable: false }, async (job) => restoreLive(m, this.images(entry), await this.readTags(entry, this.images(entry)), node.id, job));
      } else if (!node.live) {
        await this.jobs.run({ kind: 'snapshot-restore', title, vmId: entry.id, cancellable: false }, async (job) => {
          const qemuImg = new QemuImg(await this.host.qemuImg());
          const imgs = this.images(entry);
          for (const [i, img] of imgs.entries()) {
            await qemuImg.snapshotApply(img.path, node.id);
            job.progress((i + 1) / (imgs.length + 1));
          }
          await restoreTpm(entry, node.id);
        });
      } else {
        // A live snapshot into a stopped VM: QEMU loads it at start-up (-loadvm), so the VM
        // comes back running where it was. The TPM files go back first; swtpm starts on them.
        await restoreTpm(entry, node.id);
        return node.id;
      }
      const done: SnapshotMeta = { ...pendingMeta, current: node.id, pending: null };
      await saveMeta(entry.paths.snapshotsMeta, done);
      this.bus.emit('snapshots.changed', { vmId: entry.id });
      return null;
    });
    if (startLoadvm) {
      try {
        await this.jobs.run({ kind: 'snapshot-restore', title: `Restore "${snapshot}" of "${entry.config?.name}" (start)`, vmId: entry.id, cancellable: false }, () =>
          this.vms.start(entry.id, { loadvm: startLoadvm }),
        );
      } finally {
        // Success: reconcile sees -loadvm in the running QEMU's argv and makes it current.
        // Failure: the images may be half loaded; reconcile (stopped) re-applies them.
        await this.lockedList(entry).catch(() => {});
      }
    }
    return this.list(entry.id);
  }

  async delete(ref: string, snapshot: string): Promise<SnapshotTree> {
    const entry = this.vms.resolve(ref);
    return this.withLock(entry.id, async () => {
      this.requireAvailable(entry);
      const vm = entry.config!.name;
      const m = this.vms.machineFor(entry);
      requireState('delete a snapshot of', vm, m.state, ['running', 'paused', 'stopped', 'crashed']);
      const meta = await this.reconciled(entry);
      const node = this.findNode(entry, meta, snapshot);
      await saveMeta(entry.paths.snapshotsMeta, { ...meta, pending: { op: 'delete', id: node.id, startedAt: new Date().toISOString() } });
      const imgs = entry.config?.backend === 'wasm/v86' ? [] : this.images(entry); // v86: its folder goes with removeNodeFiles
      await this.jobs.run({ kind: 'snapshot-delete', title: `Delete snapshot "${node.name}" of "${vm}"`, vmId: entry.id, cancellable: false }, async (job) => {
        if (m.isActive) {
          await m.monitor('delete a snapshot of').runJob(
            'snapshot-delete',
            { tag: node.id, devices: imgs.map((i) => i.node) },
            { jobId: `delete-${node.id}`, onProgress: (f) => job.progress(f), timeoutMs: JOB_TIMEOUT_MS },
          );
        } else if (imgs.length) {
          const qemuImg = new QemuImg(await this.host.qemuImg());
          for (const [i, img] of imgs.entries()) {
            await qemuImg.snapshotDelete(img.path, node.id);
            job.progress((i + 1) / imgs.length);
          }
        }
      });
      await removeNodeFiles(entry, node.id);
      const done = { ...dropNode(meta, node.id), pending: null };
      await saveMeta(entry.paths.snapshotsMeta, done);
      this.bus.emit('snapshots.changed', { vmId: entry.id });
      return this.tree(entry, done);
    });
  }

  async rename(ref: string, snapshot: string, p: { name?: string; description?: string }): Promise<SnapshotTree> {
    const entry = this.vms.resolve(ref);
    return this.withLock(entry.id, async () => {
      const meta = await this.reconciled(entry);
      const node = this.findNode(entry, meta, snapshot);
      if (p.name !== undefined) assertUniqueSnapshotName(entry.config?.name ?? entry.id, meta.nodes, p.name, node.id);
      const nodes = meta.nodes.map((n) =>
        n.id === node.id ? { ...n, ...(p.name !== undefined ? { name: p.name.trim() } : {}), ...(p.description !== undefined ? { description: p.description } : {}) } : n,
      );
      const done = { ...meta, nodes };
      await saveMeta(entry.paths.snapshotsMeta, done);
      this.bus.emit('snapshots.changed', { vmId: entry.id });
      return this.tree(entry, done);
    });
  }

  async thumbnail(ref: string, snapshot: string): Promise<Buffer | null> {
    const entry = this.vms.resolve(ref);
    const meta = await loadMeta(entry.paths.snapshotsMeta);
    const node = this.findNode(entry, meta, snapshot);
    try {
      return await readFile(thumbPath(entry, node.id));
    } catch {
      return null;
    }
  }
}
