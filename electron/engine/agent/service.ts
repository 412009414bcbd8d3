import { setTimeout as sleep } from 'node:timers/promises';
import { VireoError } from '../../api/errors.ts';
import type { EventBus } from '../../api/dispatch.ts';
import type { AgentExecResult, AgentInfo, SnapshotQuiesce } from '../../api/types.ts';
import type { VmService } from '../vm/service.ts';
import { AgentConnection, AgentError, type AgentCallOptions } from './protocol.ts';
import { absentAgent, parseInterfaces, parseOsInfo } from './info.ts';
import { execInGuest, type ExecOptions } from './exec.ts';
import { readGuestFile, writeGuestFile, type ReadOptions, type WriteOptions } from './files.ts';

/**
 * The guest agent of every running VM, for the rest of the engine.
 *
 *   status(vm)                         → AgentInfo (absent | connected, version, os, hostname, addresses)
 *   call(vm, command, args?, opts?)    → the agent's `return` (AGENT_UNAVAILABLE when none answers,
 *                                        AGENT_ERROR when it refuses, TIMEOUT)
 *   exec(vm, path, args, {timeoutMs, input?, env?}) → {exitCode, signal, stdout, stderr, truncated, timedOut}
 *   writeFile(vm, guestPath, chunks, {onProgress, maxBytes}) / readFile(vm, guestPath, {onChunk, maxBytes})
 *   freeze(vm) → number of file systems / thaw(vm); quiesce(vm) for snapshots (always thaw in finally)
 *   setTime(vm)                        → the guest clock set to the host's
 *   shutdown(vm, mode)                 → asks the guest to power off (no reply on success)
 *
 * `vm` is anything VmService.resolve takes (id, name). One watcher per running VM finds the
 * agent once the guest opens its port (QMP query-chardev: frontend-open), resynchronises the
 * stream (protocol.ts) and keeps the info fresh; a guest reboot (RESET) or the port closing
 * makes it absent until the next agent answers. Socket paths never leave the engine.
 */

const PORT_POLL_MS = 1000;
const HEARTBEAT_EVERY = 10; // port polls between address refreshes
const INFO_TIMEOUT_MS = 10_000;

interface Link {
  conn: AgentConnection | null;
  info: AgentInfo;
  /** aborted to wake the watcher (guest reset, VM stopped) */
  wake: AbortController;
  watching: boolean;
  connecting: Promise<void> | null;
}

export class AgentService {
  private readonly links = new Map<string, Link>();
  private disposed = false;

  constructor(
    private readonly vms: VmService,
    private readonly bus: EventBus,
  ) {
    vms.agent = { info: (id) => this.links.get(id)?.info ?? this.notRunning(id), shutdown: (id) => this.shutdown(id).then(() => true, () => false) };
    bus.on('vm.state', (e) => this.onState(e.id, e.state, e.previous, e.reason));
    for (const m of vms.allMachines()) if (m.isActive) this.watch(m.id);
  }

  // ---- state ----------------------------------------------------------------------------

  status(ref: string): AgentInfo {
    const { id } = this.vms.resolve(ref);
    return this.links.get(id)?.info ?? this.notRunning(id);
  }

  private notRunning(id: string): AgentInfo {
    const c = this.vms.library.get(id)?.config;
    if (c && c.profile !== 'modern') return absentAgent('legacy-profile VMs have no guest agent channel');
    return absentAgent(this.vms.allMachines().find((m) => m.id === id)?.isActive ? 'waiting for the guest agent' : 'the VM is not running');
  }

  private onState(id: string, state: string, previous: string, reason?: string): void {
    const link = this.links.get(id);
    if (state === 'stopped' || state === 'crashed') {
      if (link) this.drop(id, link);
      return;
    }
    if (state === 'running' && !link) this.watch(id);
    if (!link) return;
    if (reason === 'reset') {
      // The guest rebooted: its agent is gone, whatever we sent may reach the next one.
      link.conn?.desync();
      this.setInfo(id, link, absentAgent('the guest is restarting; waiting for its agent'));
      link.wake.abort();
    } else if (state === 'running' && ['paused', 'restoring', 'saving'].includes(previous)) {
      // A restored guest's agent is where the snapshot left it, with whatever it had queued
      // then: its next bytes may be replies to commands of that time, so the stream resyncs
      // first (a later freeze took a stale "thawed" or {} for its count of file systems).
      if (previous === 'restoring') link.conn?.desync();
      // The guest's clock stood still (or went back to the snapshot's): set it to the host's.
      void this.afterClockJump(id, previous === 'restoring');
    }
  }

  /**
   * A live snapshot is taken with the guest's file systems frozen, so a guest restored from one
   * wakes up frozen (its agent too, refusing most commands): thaw it first, then set its clock.
   * After a restore the stream may hold a reply from before it: a failed try resyncs, so retry.
   */
  private async afterClockJump(id: string, restored: boolean): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const ok = await (async () => {
        if (restored && (await this.call<string>(id, 'guest-fsfreeze-status', undefined, { timeoutMs: INFO_TIMEOUT_MS })) === 'frozen') await this.thaw(id);
        await this.setTime(id);
      })().then(() => true, () => false);
      if (ok) return;
      await sleep(1000, undefined, { ref: false });
    }
  }

  private setInfo(id: string, link: Link, info: AgentInfo): void {
    const before = JSON.stringify(link.info);
    link.info = info;
    if (JSON.stringify(info) !== before) this.bus.emit('vm.changed', { id });
  }

  private drop(id: string, link: Link): void {
    link.watching = false;
    link.wake.abort();
    link.conn?.close();
    this.links.delete(id);
    this.bus.emit('vm.changed', { id });
  }

  private watch(id: string): void {
    const entry = this.vms.library.get(id);
    if (!entry?.config || entry.config.profile !== 'modern' || this.disposed) return;
    const link: Link = { conn: null, info: absentAgent('waiting for the guest agent'), wake: new AbortController(), watching: true, connecting: null };
    this.links.set(id, link);
    void this.watchLoop(id, link);
  }

  private async portOpen(id: string): Promise<boolean | null> {
    const m = this.vms.allMachines().find((x) => x.id === id);
    if (!m?.isActive) return null;
    try {
      const list = await m.monitor('query').execute<Array<{ label: string; 'frontend-open'?: boolean }>>('query-chardev', undefined, { timeoutMs: 5000 });
      const ch = list.find((c) => c.label === 'agent0');
      return ch ? ch['frontend-open'] === true : false;
    } catch {
      return false;
    }
  }

  private async nap(link: Link, ms: number): Promise<void> {
    if (link.wake.signal.aborted) link.wake = new AbortController();
    await sleep(ms, undefined, { signal: link.wake.signal, ref: false }).catch(() => {});
  }

  private async watchLoop(id: string, link: Link): Promise<void> {
    let backoff = 2000;
    while (link.watching && !this.disposed) {
      const open = await this.portOpen(id);
      if (open === null) return; // the VM ended; onState drops the link
      if (!open) {
        if (link.info.state === 'connected') this.setInfo(id, link, absentAgent('the guest agent closed its port (it stopped, or the guest is restarting)'));
        link.conn?.desync();
        await this.nap(link, PORT_POLL_MS);
        continue;
      }
      try {
        if (link.info.state !== 'connected') {
          await this.connect(id, link);
          backoff = 2000;
        }
        for (let i = 0; i < HEARTBEAT_EVERY && link.watching && link.info.state === 'connected'; i++) {
          await this.nap(link, PORT_POLL_MS);
          if (link.info.state === 'connected' && (await this.portOpen(id)) === false) break;
        }
        if (link.info.state === 'connected' && link.watching && link.conn) {
          const ifs = await link.conn.call('guest-network-get-interfaces', undefined, { timeoutMs: INFO_TIMEOUT_MS }).catch((e: unknown) => {
            if (e instanceof AgentError) return undefined; // alive, just refusing (frozen, or blocked by policy)
            throw e;
          });
          if (ifs !== undefined) this.setInfo(id, link, { ...link.info, addresses: parseInterfaces(ifs) });
        }
      } catch (e) {
        if (!link.watching) return;
        if (link.info.state === 'connected') this.setInfo(id, link, absentAgent(`the guest agent stopped answering (${(e as Error).message}); waiting for it`));
        await this.nap(link, backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** Connect, resync and read the info; one attempt at a time per VM (the watcher and a caller share it). */
  private connect(id: string, link: Link): Promise<void> {
    link.connecting ??= (async () => {
      try {
        if (!link.conn || link.conn.closed) link.conn = await AgentConnection.connect(this.vms.resolve(id).paths.agentSocket);
        await link.conn.sync(5000);
        await this.refreshInfo(id, link);
      } finally {
        link.connecting = null;
      }
    })();
    return link.connecting;
  }

  private async refreshInfo(id: string, link: Link): Promise<void> {
    const conn = link.conn!;
    const opt = { timeoutMs: INFO_TIMEOUT_MS };
    const gi = await conn.call<{ version?: string }>('guest-info', undefined, opt);
    // Older agents (or Windows ones with commands blocked) lack some of these: shown as unknown.
    const os = await conn.call('guest-get-osinfo', undefined, opt).then(parseOsInfo, () => null);
    const host = await conn.call<{ 'host-name'?: string }>('guest-get-host-name', undefined, opt).then((h) => h['host-name'] ?? null, () => null);
    const ifs = await conn.call('guest-network-get-interfaces', undefined, opt).then(parseInterfaces, () => []);
    this.setInfo(id, link, { state: 'connected', reason: null, version: typeof gi.version === 'string' ? gi.version : null, os, hostname: host, addresses: ifs, since: new Date().toISOString() });
    const m = this.vms.allMachines().find((x) => x.id === id);
    // Started into a live snapshot (-loadvm): the guest's clock is the snapshot's, its disks frozen.
    if (m?.info?.argv.includes('-loadvm')) void this.afterClockJump(id, true);
  }

  // ---- calls ----------------------------------------------------------------------------

  /**
   * Any agent command; AGENT_UNAVAILABLE (with the reason) when no agent answers. A guest whose
   * agent port is open but not yet in step (an engine that just started: the CLI's own) is
   * connected first rather than refused.
   */
  async call<T = unknown>(ref: string, command: string, args?: object, opts?: AgentCallOptions): Promise<T> {
    const entry = this.vms.resolve(ref);
    const link = this.links.get(entry.id);
    const name = entry.config?.name ?? entry.id;
    if (link && link.info.state !== 'connected' && (await this.portOpen(entry.id))) await this.connect(entry.id, link).catch(() => {});
    if (!link?.conn || link.info.state !== 'connected') {
      const why = link?.info.reason ?? this.notRunning(entry.id).reason;
      throw new VireoError('AGENT_UNAVAILABLE', `"${name}" has no guest agent answering (${why}): install and start qemu-guest-agent in the guest`, { vm: entry.id, reason: why });
    }
    return link.conn.call<T>(command, args, opts);
  }

  /** Throws AGENT_UNAVAILABLE (with the reason) unless an agent answers now. */
  async requireConnected(ref: string): Promise<void> {
    await this.call(ref, 'guest-ping', undefined, { timeoutMs: INFO_TIMEOUT_MS });
  }

  exec(ref: string, path: string, args: string[], opts: ExecOptions = {}): Promise<AgentExecResult> {
    return execInGuest((c, a, o) => this.call(ref, c, a, o), path, args, opts);
  }

  writeFile(ref: string, guestPath: string, chunks: AsyncIterable<Buffer> | Iterable<Buffer>, opts: WriteOptions = {}): Promise<number> {
    return writeGuestFile((c, a, o) => this.call(ref, c, a, o), guestPath, chunks, opts);
  }

  readFile(ref: string, guestPath: string, opts: ReadOptions): Promise<number> {
    return readGuestFile((c, a, o) => this.call(ref, c, a, o), guestPath, opts);
  }

  freeze(ref: string): Promise<number> {
    // Freezing waits for the guest's file systems to flush: give it time.
    return this.call<unknown>(ref, 'guest-fsfreeze-freeze', undefined, { timeoutMs: 60_000 }).then((n) => this.count(ref, 'guest-fsfreeze-freeze', n));
  }

  thaw(ref: string): Promise<number> {
    return this.call<unknown>(ref, 'guest-fsfreeze-thaw', undefined, { timeoutMs: 30_000 }).then((n) => this.count(ref, 'guest-fsfreeze-thaw', n));
  }

  /** Both answer with a number of file systems; anything else is a reply out of step: the stream resyncs. */
  private count(ref: string, command: string, n: unknown): number {
    if (typeof n === 'number' && Number.isInteger(n)) return n;
    this.links.get(this.vms.resolve(ref).id)?.conn?.desync();
    throw new VireoError('AGENT_UNAVAILABLE', `the guest agent's answer to ${command} was not a count (${JSON.stringify(n)?.slice(0, 80)}): its stream was out of step and resyncs; try again`, { command });
  }

  /**
   * Freeze for a live snapshot. Never throws: what happened is the result. `thaw` is a no-op
   * unless something was frozen; call it in a finally. A refused freeze is thawed at once too
   * (the agent may have frozen some file systems before one refused).
   */
  async quiesce(ref: string): Promise<{ result: SnapshotQuiesce; thaw: () => Promise<void> }> {
    const noop = async () => {};
    if (this.status(ref).state !== 'connected') return { result: { status: 'unavailable', filesystems: null, message: this.status(ref).reason }, thaw: noop };
    try {
      const n = await this.freeze(ref);
      return { result: { status: 'frozen', filesystems: n, message: null }, thaw: () => this.thaw(ref).then(() => {}, () => {}) };
    } catch (e) {
      await this.thaw(ref).catch(() => {});
      const refused = e instanceof AgentError;
      return { result: { status: refused ? 'refused' : 'unavailable', filesystems: null, message: refused ? e.desc : (e as Error).message }, thaw: noop };
    }
  }

  async setTime(ref: string): Promise<void> {
    // Nanoseconds since the epoch; a double is exact enough (the guest rounds to µs anyway).
    await this.call(ref, 'guest-set-time', { time: Date.now() * 1_000_000 }, { timeoutMs: INFO_TIMEOUT_MS });
  }

  /** Ask the guest to power off (or halt, reboot); resolves once it did not refuse. */
  async shutdown(ref: string, mode: 'powerdown' | 'halt' | 'reboot' = 'powerdown'): Promise<void> {
    await this.call(ref, 'guest-shutdown', { mode }, { timeoutMs: 3000, noReplyOnSuccess: true });
  }

  dispose(): void {
    this.disposed = true;
    for (const [, link] of this.links) {
      link.watching = false;
      link.wake.abort();
      link.conn?.close();
    }
    this.links.clear();
  }
}

export { AgentError };
