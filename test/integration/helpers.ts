import { mkdtempSync, readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { runtimeRoot } from '../../electron/engine/paths.ts';
import { ensureFixtures, waitForSerialText, GUEST_MARKERS } from '../fixtures/guest.ts';
import type { VmDetails } from '../../electron/api/types.ts';

// Shared by the engine's integration tests: a temp library, an engine on it, the test guest
// as a VM, and the checks that nothing was left behind.

export async function tempEngine(): Promise<Engine> {
  const home = mkdtempSync(join(tmpdir(), 'vireo-it-'));
  return createEngine({ home });
}

export async function disposeEngine(engine: Engine | undefined, { stopVms = true } = {}) {
  if (!engine) return;
  if (stopVms) {
    await Promise.all(
      engine.vms.list().filter((v) => !['stopped', 'crashed'].includes(v.state)).map((v) => engine.client.call('vms.stop', { vm: v.id, force: true }).catch(() => {})),
    );
  }
  await engine.dispose();
  await rm(engine.home, { recursive: true, force: true }).catch(() => {});
  // The library's runtime folder lives in /tmp, apart from it: without this, every test run
  // would leave its sockets' folders behind. Kept while VMs may still be running in it.
  if (stopVms) await rm(runtimeRoot(engine.home), { recursive: true, force: true }).catch(() => {});
}

/**
 * The test guest from its ISO. BIOS unless the test says otherwise: the ISO boots both ways, so
 * the engine would pick UEFI (issue 23), and Debian's GRUB 2.06 for EFI runs out of memory
 * loading the initrd in guests this small (its heap is a fixed share of RAM); the UEFI tests
 * ask for it with 384 MiB.
 */
export async function createGuestVm(engine: Engine, name: string, extra: Record<string, unknown> = {}): Promise<VmDetails> {
  const fx = await ensureFixtures();
  return engine.client.call('vms.create', { name, iso: fx.iso, memory: '192M', disk: '64M', cpus: 1, firmware: 'bios', ...extra });
}

export async function waitForReady(vm: VmDetails, timeoutMs = 90_000, after = 0) {
  return waitForSerialText(vm.paths.serialLog, new RegExp(`(?:[\\s\\S]*?${GUEST_MARKERS.ready.source}){${after + 1}}`), timeoutMs);
}

/** Every QEMU process on this machine whose argv names one of these VM ids. */
export function qemuPidsFor(ids: string[]): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.includes('qemu-system')) continue;
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) === 'Z') continue;
      if (ids.some((id) => argv.includes(id))) pids.push(Number(d));
    } catch {
      /* exited while we looked */
    }
  }
  return pids;
}

/** Files left in a VM's runtime folder (sockets, pidfile). */
export function runtimeLeftovers(vm: VmDetails, engine: Engine): string[] {
  const entry = engine.vms.resolve(vm.id);
  if (!existsSync(entry.paths.runtime)) return [];
  return readdirSync(entry.paths.runtime);
}

export function waitForState(engine: Engine, id: string, state: string, timeoutMs = 60_000): Promise<{ state: string; reason?: string }> {
  return new Promise((resolve, reject) => {
    const cur = engine.vms.list().find((v) => v.id === id);
    if (cur?.state === state) return resolve({ state });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`VM ${id} did not reach state ${state} within ${timeoutMs} ms (now ${engine.vms.list().find((v) => v.id === id)?.state})`));
    }, timeoutMs);
    const off = engine.bus.on('vm.state', (e) => {
      if (e.id === id && e.state === state) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

/**
 * The serial console's unix socket of a running VM, for SerialShell. The API no longer hands
 * out socket paths (they are the engine's business), so tests read them where the engine does.
 */
export function serialSocketOf(engine: Engine, vm: { id: string; runtime: { console: 'serial' | null } }): string {
  if (!vm.runtime.console) throw new Error(`VM ${vm.id} offers no serial console (not running, or serial off)`);
  return engine.vms.resolve(vm.id).paths.serialSocket;
}

/**
 * SIGKILLs a VM's QEMU in the middle of a live snapshot: once the VM is saving and its image
 * has grown by `bytes` (the RAM state has started to land), long before it is all written.
 * Resolves when the kill has been sent. Call it before asking for the snapshot.
 */
export function killQemuWhenImageGrows(engine: Pick<Engine, 'bus'>, vmId: string, disk: string, pid: number, bytes = 8 * 1024 ** 2): Promise<void> {
  const before = statSync(disk).size;
  return new Promise((resolve) => {
    const off = engine.bus.on('vm.state', (e) => {
      if (e.id !== vmId || e.state !== 'saving') return;
      off();
      const poll = setInterval(() => {
        if (statSync(disk).size - before > bytes) {
          clearInterval(poll);
          process.kill(pid, 'SIGKILL');
          resolve();
        }
      }, 5);
    });
  });
}
