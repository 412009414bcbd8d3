import { openSync, closeSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { VireoError } from '../../api/errors.ts';
import type { CrashInfo, VmState } from '../../api/types.ts';
import type { VmPaths } from '../paths.ts';
import { ensurePrivateDir } from '../paths.ts';
import { isActive, SHUTDOWN_TIMEOUT_SEC } from '../../shared/states.ts';
import { QmpClient } from '../qmp/client.ts';
import { spawnDetached } from '../util/proc.ts';
import { assertTransition, canTransition, requireState } from './state-machine.ts';
import { attachHelpers, startHelpers, stopHelpers, type HelperProcess } from './helpers.ts';
import { hasSavedState, waitIncoming } from './save-state.ts';
import type { LaunchSpec } from './launch-spec.ts';
export type { LaunchSpec };
import { isQemuOf, pidAlive, readPidFile, waitForExit, isZombie, readRuntimeState, unwatchedExit, ioPauseReason, pidOfUnrecordedQemu, killAndWait, startupExit, crashOf, removeRuntimeFiles, type RuntimeState } from './process.ts';

// One VM's running QEMU, whoever started it, and the only writer of that VM's state. QEMU
// runs detached (own process group, stdio to a log file, a pidfile) so it outlives this
// engine; `attach()` lets a new engine pick it up again through its QMP socket. Every state
// change goes through the transition table (state-machine.ts) and is emitted as 'state'.

export interface MachineEvents {
  state: [state: VmState, previous: VmState, reason?: string];
}

const QMP_TIMEOUT_MS = 10_000;

export class Machine extends EventEmitter<MachineEvents> {
  #state: VmState = 'stopped';
  private qmp: QmpClient | null = null;
  private runtime: RuntimeState | null = null;
  private child: ChildProcess | null = null;
  private exitWaiters: Array<() => void> = [];
  /** set when the guest or we asked QEMU to end: its exit is then a stop, not a crash */
  private expectingExit = false;
  private helpers: HelperProcess[] = [];
  crash: CrashInfo | null = null;
  /** why QEMU itself paused the guest (a disk error such as a full host disk), until it runs again */
  ioPause: string | null = null;
  private ending: Promise<void> | null = null;
  private pidWatch: NodeJS.Timeout | null = null;
  /** set by detach(): this engine no longer speaks for the VM, so its exit is not ours to handle */
  private detached = false;

  constructor(
    readonly id: string,
    private name: string,
    readonly paths: VmPaths,
    /** the helpers this VM runs with, for a QEMU found running that this engine did not start */
    private readonly helpersOf: () => HelperProcess[] = () => [],
  ) {
    super();
  }

  get state(): VmState {
    return this.#state;
  }
  get pid(): number | null {
    return this.runtime?.pid ?? null;
  }
  get info() {
    return this.runtime;
  }
  get isActive(): boolean {
    return isActive(this.#state);
  }
  setName(name: string) {
    this.name = name;
  }

  private change(next: VmState, reason?: string, how: 'change' | 'adopt' = 'change'): void {
    const prev = this.#state;
    if (prev === next) return;
    assertTransition(this.id, prev, next, how);
    this.#state = next;
    this.emit('state', next, prev, reason);
  }

  /** The QMP client, or a clear error when the VM is not running. */
  monitor(op: string): QmpClient {
    if (!this.qmp || !this.isActive) {
      throw new VireoError('INVALID_STATE', `cannot ${op} "${this.name}": it is not running`, { state: this.#state });
    }
    return this.qmp;
  }

  /**
   * Pick up a QEMU left running by an earlier engine (or started by another one: the CLI
   * while `vireo serve` runs), or clear what a dead one left behind. Without a pidfile nothing
   * is touched: another engine may be starting this VM right now.
   */
  async attach(): Promise<void> {
    if (this.isActive) return;
    const saved = await readRuntimeState(this.paths.stateFile);
    const pid = (await readPidFile(this.paths.pidFile)) ?? (saved ? null : await pidOfUnrecordedQemu(this.paths.pidFile, this.id));
    const deadPid = pid ?? saved?.pid ?? null;
    if (!deadPid) {
      // No QEMU, but a saved state in its folder: the VM is suspended to disk (save-state.ts).
      if (this.#state === 'stopped' && hasSavedState(this.paths)) this.change('saved', 'state saved earlier');
      else if (this.#state === 'saved' && !hasSavedState(this.paths)) this.change('stopped', 'the saved state is gone');
      return;
    }
    if (!isQemuOf(deadPid, this.id) || isZombie(deadPid)) {
      // It was running when its engine went away and is gone now: nobody saw it exit.
      if (saved) this.crash = await unwatchedExit(this.paths.qemuLog);
      await stopHelpers(this.helpersOf());
      await this.removeRuntimeFiles();
      return;
    }
    this.runtime = saved ?? { pid: deadPid, startedAt: new Date().toISOString(), accel: 'tcg', accelReason: 'unknown (re-attached)', argv: [], binary: '' };
    this.runtime.pid = deadPid;
    this.helpers = this.helpersOf();
    try {
      // The primary monitor may be held by the engine that started it; QEMU serves one
      // client per monitor, so fall back to the secondary one for commands and events.
      this.qmp = await this.connectQmp(2000).catch(() => this.connectQmp(2000, this.paths.qmpCmdSocket));
    } catch (e) {
      // Alive but no monitor answers: report it running without control rather than
      // pretending it is stopped (that would invite a second QEMU on the same disks).
      this.change('running', 'attached without a monitor', 'adopt');
      this.watchPid(deadPid);
      throw new VireoError('QMP_DISCONNECTED', `"${this.name}" runs (pid ${deadPid}) but its QMP monitors do not answer: ${(e as Error).message}`);
    }
    const status = await this.qmp.execute<{ status: string; running: boolean }>('query-status');
    this.crash = null;
    this.watchPid(deadPid);
    this.change(status.running ? 'running' : 'paused', 'attached', 'adopt');
  }

  async start(spec: LaunchSpec): Promise<void> {
    requireState('start', this.name, this.#state, spec.incoming?.fd !== undefined ? ['saved'] : ['stopped', 'crashed']);
    this.crash = null;
    this.expectingExit = false;
    this.change('starting');
    let pid: number | undefined;
    let logFd: number | undefined;
    try {
      ensurePrivateDir(this.paths.runtime);
      await this.removeRuntimeFiles(false);
      mkdirSync(this.paths.logs, { recursive: true });
      this.helpers = spec.helpers ?? [];
      await startHelpers(this.helpers);
      logFd = openSync(this.paths.qemuLog, 'a');
      await writeFile(this.paths.qemuLog, `\n--- ${new Date().toISOString()} starting ${spec.binary} (accel ${spec.accel})\n`, { flag: 'a' });
      const stdio: StdioOptions = spec.incoming?.fd !== undefined ? ['ignore', logFd, logFd, spec.incoming.fd] : ['ignore', logFd, logFd];
      const { child, spawnFailed } = await spawnDetached(spec.binary, spec.argv, { stdio, errorCode: 'QEMU_FAILED' });
      this.child = child;
      pid = child.pid!;
      this.runtime = { pid, startedAt: new Date().toISOString(), accel: spec.accel, accelReason: spec.accelReason, argv: spec.argv, binary: spec.binary };
      spec.afterSpawn?.(pid);
      child.once('exit', (code, signal) => void this.onExit(code, signal));
      const exited = startupExit(child, this.paths.qemuLog, [spec.binary, ...spec.argv]);
      this.qmp = await Promise.race([
        this.connectQmp(QMP_TIMEOUT_MS).catch(async (e: unknown) => {
          // QEMU that dies at start-up takes its socket with it; its exit status and stderr
          // say why, which is what the user needs, not "cannot connect".
          await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
          throw e;
        }),
        exited,
        spawnFailed,
      ]);
      await writeFile(this.paths.stateFile, JSON.stringify(this.runtime), { mode: 0o600 });
      await Promise.race([attachHelpers(this.helpers), exited]);
      if (spec.incoming) {
        // All the saved state is read, and its file let go, before the guest runs (or anyone is told so).
        await Promise.race([spec.incoming.receive ? spec.incoming.receive(this.qmp) : waitIncoming(this.qmp), exited]);
        await spec.incoming.loaded?.();
        // A guest saved paused stays paused.
        if (!spec.incoming.resumeRunning) return this.change('paused', 'resumed from its saved state, paused as it was saved');
      }
      // Started paused (-S) so nothing ran before we were listening; now let it go.
      await Promise.race([this.qmp.execute('cont'), exited]);
      this.change('running');
    } catch (e) {
      // Forget the runtime first so the exit handler sees a failed start, not a crash.
      this.runtime = null;
      await killAndWait(pid, 3000);
      this.qmp?.close();
      this.qmp = null;
      await this.finish();
      this.change('stopped', (e as Error).message);
      throw e instanceof VireoError ? e : new VireoError('QEMU_FAILED', `could not start "${this.name}": ${(e as Error).message}`);
    } finally {
      if (logFd !== undefined) closeSync(logFd);
    }
  }

  /**
   * Runs `fn` with the VM in a transient state (a live snapshot saving or loading). Afterwards
   * the VM is running or paused as QEMU reports, unless it ended meanwhile.
   */
  async transient<T>(state: 'saving' | 'restoring', op: string, fn: (qmp: QmpClient) => Promise<T>): Promise<T> {
    requireState(op, this.name, this.#state, ['running', 'paused']);
    const qmp = this.monitor(op);
    const prev = this.#state;
    this.change(state);
    try {
      return await fn(qmp);
    } finally {
      if (this.#state === state) {
        const st = await qmp.execute<{ running: boolean }>('query-status').catch(() => null);
        this.change(st ? (st.running ? 'running' : 'paused') : prev);
      }
    }
  }

  /** Save state: the guest stops, `save` writes its state (save-state.ts), QEMU quits, the VM is 'saved' (through 'stopped',
   *  so what follows a QEMU's end runs as usual). A failed save leaves the VM running (or paused) as it was. */
  async suspend(save: (qmp: QmpClient, wasRunning: boolean) => Promise<void>): Promise<void> {
    requireState('save the state of', this.name, this.#state, ['running', 'paused']);
    const qmp = this.monitor('save the state of');
    const prev = this.#state;
    this.change('saving');
    try {
      if (prev === 'running') await qmp.execute('stop');
      await save(qmp, prev === 'running');
    } catch (e) {
      if (this.isActive && this.#state === 'saving') {
        if (prev === 'running') await qmp.execute('cont').catch(() => {});
        const st = await qmp.execute<{ running: boolean }>('query-status').catch(() => null);
        if (this.#state === 'saving') this.change(st ? (st.running ? 'running' : 'paused') : prev);
      }
      throw e;
    }
    // The state is on disk already; a QEMU that does not quit is only in the way.
    await this.quitOrKill(10_000);
    this.change('saved', 'state saved');
  }

  /** A saved state that is gone (discarded, or unreadable): the VM is stopped. */
  forgetSaved = (reason: string) => this.#state === 'saved' && this.change('stopped', reason);
  /** A start from the saved state failed but its file is still there: the VM stays saved. */
  keepSaved = () => this.#state === 'stopped' && hasSavedState(this.paths) && this.change('saved', 'the saved state is kept');

  private async connectQmp(timeoutMs: number, socket = this.paths.qmpSocket): Promise<QmpClient> {
    const qmp = await QmpClient.connect(socket, { timeoutMs, retryUntilMs: timeoutMs });
    qmp.on('event', (ev: { event: string; data?: unknown }) => this.onQmpEvent(ev));
    // A monitor that closes means QEMU is ending; the exit (or pid watch) decides crash or stop.
    qmp.on('close', () => this.qmp === qmp && (this.qmp = null));
    return qmp;
  }

  private onQmpEvent(ev: { event: string; data?: unknown }) {
    switch (ev.event) {
      case 'BLOCK_IO_ERROR':
        this.ioPause = ioPauseReason(ev.data) ?? this.ioPause; // the STOP that follows says why
        break;
      case 'STOP':
        if (this.#state === 'running') this.change('paused', this.ioPause ?? undefined);
        break;
      case 'RESUME':
        this.ioPause = null;
        if (this.#state === 'paused' || this.#state === 'starting') this.change('running');
        break;
      case 'SHUTDOWN': {
        const data = ev.data as { guest?: boolean; reason?: string } | undefined;
        this.expectingExit = true;
        // Mid-snapshot the exit itself ends the transient state; "stopping" is not a step there.
        if (canTransition(this.#state, 'stopping')) this.change('stopping', data?.reason ?? 'shutdown');
        break;
      }
      case 'RESET':
        // The guest rebooted; state stays as it is, but listeners (display) want to know.
        this.emit('state', this.#state, this.#state, 'reset');
        break;
    }
  }

  /** For a QEMU that is not our child: notice its death through its QMP socket closing or a slow pid check. */
  private watchPid(pid: number) {
    const gone = () => {
      this.stopWatching();
      void this.onExit(null, null);
    };
    this.pidWatch = setInterval(() => (!pidAlive(pid) || isZombie(pid)) && gone(), 1000);
    this.pidWatch.unref();
    this.qmp?.once('close', () => void waitForExit(pid, 5000).then((dead) => dead && !this.detached && gone()));
  }

  private stopWatching() {
    if (this.pidWatch) clearInterval(this.pidWatch);
    this.pidWatch = null;
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.ending) return this.ending;
    if (this.detached) return Promise.resolve();
    // While starting, start() itself rolls back and reports a QEMU that died; acting here too
    // could turn its "stopped, here is why" into a late "crashed".
    if (!this.runtime || this.#state === 'starting') return Promise.resolve();
    this.ending = (async () => {
      const clean = this.expectingExit || (code === 0 && signal === null);
      this.qmp?.close();
      this.qmp = null;
      if (!clean) this.crash = await crashOf(code, signal, this.paths.qemuLog);
      this.runtime = null;
      this.child = null;
      await this.finish();
      this.ending = null;
      this.change(clean ? 'stopped' : 'crashed', clean ? undefined : this.crash?.reason);
      const waiters = this.exitWaiters;
      this.exitWaiters = [];
      waiters.forEach((w) => w());
    })();
    return this.ending;
  }

  /** After QEMU: its helpers (reverse order), then its runtime files. */
  private async finish() {
    const failures = await stopHelpers(this.helpers);
    this.helpers = [];
    if (failures.length) await writeFile(this.paths.qemuLog, `--- helpers did not stop cleanly: ${failures.join('; ')}\n`, { flag: 'a' }).catch(() => {});
    await this.removeRuntimeFiles();
  }

  private removeRuntimeFiles = (all = true) => removeRuntimeFiles(this.paths, all);

  private exitPromise(): Promise<void> {
    if (!this.isActive && !this.ending) return Promise.resolve();
    return new Promise((r) => this.exitWaiters.push(r));
  }

  async waitUntilStopped(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.exitPromise().then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return done;
  }

  async pause() {
    requireState('pause', this.name, this.#state, ['running']);
    await this.monitor('pause').execute('stop');
    this.change('paused');
  }

  async resume() {
    requireState('resume', this.name, this.#state, ['paused']);
    await this.monitor('resume').execute('cont');
    this.change('running');
  }

  async reset() {
    requireState('reset', this.name, this.#state, ['running', 'paused']);
    await this.monitor('reset').execute('system_reset');
  }

  /** Shut down: ACPI power button, wait; then QMP quit, wait; then SIGKILL; `force` skips the guest (power off).
   *  With `guestShutdown` (the agent), ACPI gets a third of the time (≤15 s), then the agent is asked (guests ignoring ACPI). */
  async stop(opts: { force?: boolean; timeoutMs?: number; guestShutdown?: () => Promise<boolean> } = {}): Promise<'acpi' | 'agent' | 'quit' | 'kill' | 'already'> {
    if (!this.isActive) return 'already';
    requireState('stop', this.name, this.#state, ['running', 'paused', 'stopping', 'starting']);
    const prev = this.#state;
    if (!opts.force) {
      this.change('stopping');
      try {
        // A paused guest cannot react to the power button.
        if (prev === 'paused') await this.qmp?.execute('cont');
        await this.qmp?.execute('system_powerdown');
        const total = opts.timeoutMs ?? SHUTDOWN_TIMEOUT_SEC * 1000;
        const acpiMs = opts.guestShutdown ? Math.min(total / 3, 15_000) : total;
        if (await this.waitUntilStopped(acpiMs)) return 'acpi';
        if ((await opts.guestShutdown?.().catch(() => false)) && (await this.waitUntilStopped(total - acpiMs))) return 'agent';
      } catch {
        /* monitor gone: fall through to harder means */
      }
    }
    this.expectingExit = true;
    if (this.isActive && this.#state !== 'stopping') this.change('stopping');
    return (await this.quitOrKill(5000)) ? 'quit' : 'kill';
  }

  /** QMP quit (QEMU may close the monitor before answering), then SIGKILL; true when quit was enough. */
  private async quitOrKill(waitMs: number): Promise<boolean> {
    const pid = this.runtime?.pid;
    this.expectingExit = true;
    await this.qmp?.execute('quit', undefined, { timeoutMs: 3000 }).catch(() => {});
    if (await this.waitUntilStopped(waitMs)) return true;
    await killAndWait(pid, 5000);
    if (this.isActive) await this.onExit(null, 'SIGKILL');
    return false;
  }

  /** Stop watching without touching QEMU (engine shutdown: VMs keep running). */
  detach() {
    this.detached = true;
    this.stopWatching();
    this.qmp?.removeAllListeners();
    this.qmp?.close();
    this.qmp = null;
    this.child?.removeAllListeners();
    this.child = null;
  }
}
