import { VireoError } from '../../../api/errors.ts';
import type { Caller } from '../../../api/define.ts';
import type { Nic, PortForward, VmConfig } from '../../../api/schemas/vm-config.ts';
import type { ForwardsResult } from '../../../api/types.ts';
import type { EngineParts } from '../../parts.ts';
import type { LibraryEntry } from '../../library/library.ts';
import { passtOptions } from './helpers.ts';
import { replacePasst } from './passt.ts';
import { natStatus, olderPasstCard, passtAvailability, runningBackend } from './plan.ts';
import { assertPortFree, fwdLabel } from './port-holder.ts';
import { checkForwardCaller } from './policy.ts';

// Port forwards of a VM's NAT cards, added and removed while it runs (and saved to vm.json),
// or only saved while it is stopped. Live: slirp through QMP's human-monitor-command
// hostfwd_add/hostfwd_remove; passt by replacing the card's passt (passt.ts). A new forward's
// host port is bound as a test first, so a taken port is refused before anything changes.
// A web caller may bind loopback only (policy.ts).

type FwdKey = Pick<PortForward, 'protocol' | 'hostAddress' | 'hostPort'>;

const sameKey = (a: FwdKey, b: FwdKey) => a.protocol === b.protocol && a.hostPort === b.hostPort && a.hostAddress === b.hostAddress;

function pickNic(config: VmConfig, nicId: string | undefined): Nic {
  const nat = config.networks.filter((n) => n.mode === 'user');
  if (nicId) {
    const nic = config.networks.find((n) => n.id === nicId);
    if (!nic) throw new VireoError('NOT_FOUND', `"${config.name}" has no network card ${nicId}: its cards are ${config.networks.map((n) => n.id).join(', ') || 'none'}`, { nic: nicId });
    if (nic.mode !== 'user') throw new VireoError('INVALID_ARGUMENT', `NIC ${nicId} of "${config.name}" is in ${nic.mode} mode: port forwards belong to NAT cards (or, host-only, to Settings while stopped)`, { nic: nicId });
    return nic;
  }
  if (!nat[0]) throw new VireoError('INVALID_ARGUMENT', `"${config.name}" has no NAT network card: add one (vireo net add) to forward ports to it`);
  return nat[0];
}

export class NatForwards {
  constructor(private readonly p: Pick<EngineParts, 'vms' | 'library' | 'host' | 'bus'>) {}

  private async status(entry: LibraryEntry): Promise<ForwardsResult> {
    const config = this.p.library.get(entry.id)?.config ?? entry.config!;
    const m = this.p.vms.machineFor(entry);
    const caps = await this.p.host.capabilities(config.arch).catch(() => null);
    const argv = m.isActive ? (m.info?.argv ?? []) : null;
    return { vm: entry.id, running: m.isActive, nics: natStatus(config, await passtAvailability(), caps?.versionParts ?? [0, 0, 0], argv) };
  }

  list(vm: string): Promise<ForwardsResult> {
    const entry = this.p.vms.resolve(vm);
    if (!entry.config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`);
    return this.status(entry);
  }

  add(vm: string, nicId: string | undefined, f: PortForward, caller?: Caller): Promise<ForwardsResult> {
    const { id } = this.p.vms.resolve(vm);
    return this.p.vms.locks.run(id, 'a port-forward change', async () => {
      const entry = this.p.vms.resolve(id);
      const config = entry.config;
      if (!config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`);
      const nic = pickNic(config, nicId);
      checkForwardCaller(caller, f);
      const clash = config.networks.flatMap((n) => n.portForwards.map((x) => [n.id, x] as const)).find(([, x]) => sameKey(x, f));
      if (clash) throw new VireoError('ALREADY_EXISTS', `host port ${fwdLabel(f)} is already forwarded (NIC ${clash[0]} → guest port ${clash[1].guestPort}): remove that forward first`, { nic: clash[0] });
      const next = [...nic.portForwards, f];
      await this.live(entry, nic, next, async (mon, backend) => {
        await assertPortFree(f);
        if (backend === 'slirp') await hmp(mon, `hostfwd_add ${nic.id} ${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}`);
      });
      return this.save(entry, config, nic.id, next);
    });
  }

  remove(vm: string, nicId: string | undefined, key: FwdKey): Promise<ForwardsResult> {
    const { id } = this.p.vms.resolve(vm);
    return this.p.vms.locks.run(id, 'a port-forward change', async () => {
      const entry = this.p.vms.resolve(id);
      const config = entry.config;
      if (!config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`);
      const nic = nicId ? pickNic(config, nicId) : config.networks.find((n) => n.mode === 'user' && n.portForwards.some((x) => sameKey(x, key)));
      if (!nic || !nic.portForwards.some((x) => sameKey(x, key))) {
        throw new VireoError('NOT_FOUND', `"${config.name}" has no forward of host port ${fwdLabel(key)}${nicId ? ` on NIC ${nicId}` : ''}: vireo net forward ls ${config.name} lists them`);
      }
      const next = nic.portForwards.filter((x) => !sameKey(x, key));
      await this.live(entry, nic, next, async (mon, backend) => {
        if (backend === 'slirp') await hmp(mon, `hostfwd_remove ${nic.id} ${key.protocol}:${key.hostAddress}:${key.hostPort}`);
      });
      return this.save(entry, config, nic.id, next);
    });
  }

  /** Applies the change to the running VM (a stopped one only saves); slirp via `slirp`, passt by replacement. */
  private async live(entry: LibraryEntry, nic: Nic, next: PortForward[], slirp: (mon: Monitor, backend: 'passt' | 'slirp') => Promise<void>) {
    const m = this.p.vms.machineFor(entry);
    if (!m.isActive) return;
    const backend = runningBackend(m.info?.argv ?? [], nic.id);
    if (!backend) throw new VireoError('INVALID_STATE', `NIC ${nic.id} of "${entry.config?.name}" was not started as a NAT card: change its forwards after a restart`);
    if (backend === 'passt' && nic.model !== 'virtio-net-pci') {
      // Measured with Debian 12's passt: a passt attached to a running guest's e1000 card
      // crashes (SIGSEGV) on the first forwarded connection; on virtio-net it works.
      throw new VireoError('UNSUPPORTED', `NIC ${nic.id} uses passt on a ${nic.model} card, whose forwards cannot change while the VM runs (a replaced passt crashes on it): stop the VM to change them, or use a virtio-net-pci card or the slirp backend`, { nic: nic.id, model: nic.model });
    }
    if (backend === 'passt' && olderPasstCard(m.info?.argv ?? [], nic.id)) {
      throw new VireoError('INVALID_STATE', `NIC ${nic.id} of "${entry.config?.name}" was started by an older Vireo, whose passt cannot be replaced while it runs: restart the VM once to change its forwards live`, { nic: nic.id });
    }
    const mon = m.monitor('change the port forwards of');
    await slirp(mon, backend);
    // A new passt knows nothing of the guest until the guest sends a frame; announce-self makes
    // virtio-net's guest send gratuitous ARPs, so forwarded connections reach it at once.
    if (backend === 'passt') await replacePasst(passtOptions(entry, nic.id, entry.config!), next, nic.portForwards, () => announce(mon));
  }

  private async save(entry: LibraryEntry, config: VmConfig, nicId: string, forwards: PortForward[]): Promise<ForwardsResult> {
    const networks = config.networks.map((n) => (n.id === nicId ? { ...n, portForwards: forwards } : n));
    const saved = await this.p.library.saveConfig(entry, { ...config, networks });
    this.p.bus.emit('vm.changed', { id: saved.id });
    return this.status(saved);
  }
}

function announce(mon: Monitor): Promise<void> {
  return mon.execute('announce-self', { initial: 50, max: 550, rounds: 3, step: 100 }).then(() => {});
}

type Monitor = { execute<T>(cmd: string, args?: Record<string, unknown>): Promise<T> };

/** HMP answers a failed hostfwd_add/remove with text, not a QMP error. */
async function hmp(mon: Monitor, line: string): Promise<void> {
  const out = (await mon.execute<string>('human-monitor-command', { 'command-line': line })).trim();
  // hostfwd_add says nothing when it worked; hostfwd_remove says "host forwarding rule for … removed".
  if (out && !/ removed$/.test(out)) throw new VireoError('QMP_ERROR', `QEMU refused "${line}": ${out}`, { command: line });
}
