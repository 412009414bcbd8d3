import { join } from 'node:path';
import { VireoError } from '../../../api/errors.ts';
import type { Nic, VmConfig } from '../../../api/schemas/vm-config.ts';
import type { NatNicStatus, PasstAvailability } from '../../../api/types.ts';
import type { ArgvNat } from '../../qemu/argv/context.ts';
import { run } from '../../util/proc.ts';

// Which user-mode stack a NAT card gets, and why. passt (a separate process) when the card asks
// for it and this QEMU can reach it (`-netdev stream`, QEMU 7.2); QEMU's built-in slirp for
// "auto" and otherwise (see chooseNat for why auto does not pick passt). The reason
// is said in vms.get per card and host.info says whether passt is there.

export const PASST_INSTALL_HINT = 'install it: Debian/Ubuntu `sudo apt install passt`, Fedora `sudo dnf install passt`';
/** `-netdev stream` (the socket QEMU serves to passt) arrived in QEMU 7.2. */
export const PASST_MIN_QEMU: [number, number, number] = [7, 2, 0];

/** A NAT card's files in the VM's runtime folder: QEMU's stream socket, the passt pidfile. */
export const natFiles = (runtimeDir: string, nicId: string) => ({
  socket: join(runtimeDir, `nat-${nicId}.sock`),
  pidFile: join(runtimeDir, `passt-${nicId}.pid`),
});

let cached: { at: number; value: PasstAvailability } | null = null;

/** Whether passt can run here (binary on PATH answering --version); cached for a minute. */
export async function passtAvailability(refresh = false, binary = 'passt'): Promise<PasstAvailability> {
  if (!refresh && cached && Date.now() - cached.at < 60_000) return cached.value;
  let value: PasstAvailability;
  if (process.platform !== 'linux') {
    value = { available: false, reason: 'passt runs on Linux only: NAT cards use QEMU\'s built-in slirp' };
  } else {
    try {
      const r = await run(binary, ['--version'], { timeoutMs: 10_000 });
      // Debian 12's passt prints "passt unknown version" (a git snapshot, 2023-03).
      const line = (r.stdout || r.stderr).split('\n').find((l) => l.trim()) ?? '';
      value = { available: true, binary, version: line.trim() };
    } catch (e) {
      const missing = ((e as VireoError).details as { errno?: string } | undefined)?.errno === 'ENOENT';
      value = {
        available: false,
        reason: missing ? `passt is not installed, so NAT cards use QEMU's built-in slirp: ${PASST_INSTALL_HINT}` : `passt does not run: ${(e as Error).message}`,
      };
    }
  }
  cached = { at: Date.now(), value };
  return value;
}

const atLeast = (v: readonly number[], min: readonly number[]) => {
  for (let i = 0; i < 3; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  return true;
};

export interface NatChoice {
  backend: 'passt' | 'slirp';
  reason: string;
}

/** The backend for one NAT card; throws UNSUPPORTED when passt is asked for and cannot be had. */
export function chooseNat(nic: Pick<Nic, 'id' | 'natBackend'>, passt: PasstAvailability, qemuVersion: readonly number[]): NatChoice {
  const want = nic.natBackend ?? 'auto';
  const qemuOk = atLeast(qemuVersion, PASST_MIN_QEMU);
  const whyNot = !passt.available ? passt.reason ?? 'passt is not available' : !qemuOk ? `QEMU ${qemuVersion.join('.')} cannot reach passt (needs 7.2 or newer for -netdev stream)` : null;
  if (want === 'slirp') return { backend: 'slirp', reason: 'slirp chosen in the card\'s settings' };
  if (want === 'passt') {
    if (whyNot) throw new VireoError('UNSUPPORTED', `NIC ${nic.id} asks for passt but ${whyNot}; or set its NAT backend to auto or slirp`, { nic: nic.id });
    return { backend: 'passt', reason: 'passt chosen in the card\'s settings' };
  }
  if (whyNot) return { backend: 'slirp', reason: `auto: ${whyNot}` };
  // Not passt by default, though it is the faster stack (bench/nat.ts: about 1.5 × libvirt's
  // slirp on downloads, behind Vireo's keeper, passt-relay.mjs, for a guest that takes the
  // 65520-byte MTU its DHCP offers; level with slirp at 1500): a forward changed while the VM
  // runs replaces passt and drops the connections open through the card, and Debian 12's passt
  // crashes on a replaced e1000 card's first forwarded connection (forwards.ts), while slirp,
  // inside QEMU, changes every card's forwards live and keeps its connections. passt stays one
  // click away.
  return { backend: 'slirp', reason: `auto: slirp — passt (${passt.version || passt.binary}) is installed and can be chosen for this card (faster downloads, from its 65520-byte MTU); slirp stays the default as it runs inside QEMU and changes every card's forwards live` };
}

/** ArgvContext.nat for a launch: every NAT card's netdev form, passt ones with their socket. */
export function natPlan(config: VmConfig, runtimeDir: string, passt: PasstAvailability, qemuVersion: readonly number[]): Record<string, ArgvNat> {
  const plan: Record<string, ArgvNat> = {};
  for (const nic of config.networks) {
    if (nic.mode !== 'user') continue;
    const c = chooseNat(nic, passt, qemuVersion);
    plan[nic.id] = c.backend === 'passt' ? { backend: 'passt', socket: natFiles(runtimeDir, nic.id).socket } : { backend: 'slirp' };
  }
  return plan;
}

/** The backend a running QEMU was started with for this card, read from its argv. */
export function runningBackend(argv: readonly string[], nicId: string): 'passt' | 'slirp' | null {
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] !== '-netdev') continue;
    const v = argv[i + 1]!;
    // server=off: QEMU connects to Vireo's passt keeper; server=on: an older Vireo's relay connected to QEMU.
    if (v.startsWith(`stream,id=${nicId},server=off,`) || v.startsWith(`stream,id=${nicId},server=on,`)) return 'passt';
    if (v === `user,id=${nicId}` || v.startsWith(`user,id=${nicId},`)) return 'slirp';
  }
  return null;
}

/** A passt card started by a Vireo before the keeper (QEMU served its socket): its forwards change only after a restart. */
export function olderPasstCard(argv: readonly string[], nicId: string): boolean {
  return argv.some((v, i) => argv[i - 1] === '-netdev' && v.startsWith(`stream,id=${nicId},server=on,`));
}

/** What vms.get says about each NAT card: the backend (in use, or that a start would pick) and why. */
export function natStatus(config: VmConfig, passt: PasstAvailability, qemuVersion: readonly number[], runningArgv: readonly string[] | null): NatNicStatus[] {
  return config.networks
    .filter((n) => n.mode === 'user')
    .map((nic) => {
      const live = runningArgv ? runningBackend(runningArgv, nic.id) : null;
      let choice: NatChoice;
      try {
        choice = chooseNat(nic, passt, qemuVersion);
      } catch (e) {
        choice = { backend: 'slirp', reason: (e as Error).message };
      }
      const backend = live ?? choice.backend;
      const reason = live && live !== choice.backend ? `started with ${live} (a start now would pick ${choice.backend}: ${choice.reason})` : choice.reason;
      return {
        nic: nic.id,
        backend,
        reason,
        running: !!live,
        liveChange:
          backend === 'passt'
            ? nic.model === 'virtio-net-pci'
              ? 'a forward added or removed while the VM runs restarts this card\'s passt: connections open through this card drop (the guest keeps its address)'
              : `only while the VM is stopped: passt on a ${nic.model} card cannot be replaced while it runs (use virtio-net-pci or slirp for live changes)`
            : 'forwards change at once (QEMU hostfwd_add/hostfwd_remove); open connections stay',
        forwards: nic.portForwards,
      };
    });
}
