import { z } from 'zod';
import { VireoError } from '../../api/errors.ts';
import type { Caller, WebCaller } from '../../api/define.ts';
import type { Dispatch } from '../../api/dispatch.ts';
import type { RemoteDomainInfo, RemoteSnapshot } from '../../api/host-types.ts';
import type { SnapshotTree } from '../../api/types.ts';
import { VmRef } from '../../api/schemas/common.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { EngineParts } from '../parts.ts';
import { serveScreen } from './peer-screen.ts';
import { pairingSecret } from './pairing.ts';

// A paired source asks this engine (the target's `vireo serve`) about the VMs of its library
// (issue 24: "its VMs appear under it in the library with state, console, screen,
// start/stop/pause"). The peer is treated as a remote API client and less: it may list the
// library's VMs, read a summary of one, start, stop, pause, resume or reset one, and open its
// screen or serial console. Nothing here writes a config, and nothing it sends is a path: a
// VM is named by id or name and resolved in this library only. Control goes through this engine's own dispatch with
// a web caller confined to the library (no media roots, no extra QEMU arguments), so a start
// passes the same checks (memory overcommit, disposables) as one from this serve's own page.
// What goes back names no file of this machine.

export const PEER_VM_OPS = ['vm-list', 'vm-get', 'vm-control', 'vm-screen', 'vm-console'] as const;
export type PeerVmOp = (typeof PEER_VM_OPS)[number];
export const isPeerVmOp = (op: string): op is PeerVmOp => (PEER_VM_OPS as readonly string[]).includes(op);

export const PEER_ACTIONS = ['start', 'shutdown', 'poweroff', 'pause', 'resume', 'reboot'] as const;
export type PeerAction = (typeof PEER_ACTIONS)[number];

const VmArgs = z.object({ vm: VmRef }).strict();
const ControlArgs = z.object({ vm: VmRef, action: z.enum(PEER_ACTIONS) }).strict();
const ScreenArgs = z.object({ vm: VmRef, salt: z.string().regex(/^[0-9a-f]{32,128}$/) }).strict();

/** One VM of the target as a peer sees it (no paths, no QEMU argv). */
export interface PeerVm {
  id: string;
  name: string;
  state: string;
  info: RemoteDomainInfo | null;
  /** its snapshot tree, to read (a peer takes, restores or deletes none) */
  snapshots: RemoteSnapshot[];
}

const PEER_CALLER: WebCaller = Object.freeze({ kind: 'web', roots: [], allowExtraArgs: false });

/** What a peer learns of a VM's config: what the host views show, never a file name. */
export function peerInfo(id: string, c: VmConfig, display: boolean): RemoteDomainInfo {
  return {
    name: c.name,
    uuid: id,
    domainType: `vireo/${c.backend}`,
    arch: c.arch,
    machine: c.system.machine,
    memoryMiB: c.system.memoryMiB,
    vcpus: c.system.cpus,
    firmware: c.system.firmware,
    secureBoot: c.system.secureBoot,
    tpm: c.system.tpm,
    cpuMode: c.system.cpuModel,
    disks: [
      ...c.disks.map((d) => ({ device: 'disk' as const, file: null, format: d.format, target: d.id, bus: d.bus, readOnly: d.readOnly })),
      { device: 'cdrom' as const, file: null, format: 'raw', target: 'cdrom0', bus: c.cdrom.bus, readOnly: true },
    ],
    nics: c.networks.map((n) => ({ type: n.mode, mac: n.mac, model: n.model, source: n.mode === 'private' ? (n.network ?? null) : null })),
    graphics: display ? { type: 'vnc', socket: null, port: null, listen: null } : null,
    video: c.display.device,
    serial: c.serial.enabled,
    os: { id: c.os.id, name: c.os.name, family: c.os.family },
    madeByVireo: true,
  };
}

/** The snapshot tree in the host views' words: parents by name, the current one marked. */
export function peerSnapshots(tree: SnapshotTree): RemoteSnapshot[] {
  const names = new Map(tree.nodes.map((n) => [n.id, n.name]));
  return tree.nodes.map((n) => ({ name: n.name, parent: n.parent ? (names.get(n.parent) ?? null) : null, createdAt: n.createdAt, state: n.live ? n.vmState : 'shutoff', current: n.id === tree.current, description: n.description }));
}

function parse<T>(schema: z.ZodType<T>, op: string, args: unknown): T {
  const r = schema.safeParse(args);
  if (!r.success) throw new VireoError('INVALID_ARGUMENT', `${op}: ${r.error.issues[0]?.path.join('.') || 'arguments'}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

export class PeerVmRequests {
  private dispatch: Dispatch | null = null;

  constructor(private readonly p: EngineParts) {}

  /** The engine's dispatch, bound once its handler table exists (index.ts). */
  bind(dispatch: Dispatch): void {
    this.dispatch = dispatch;
  }

  private async call(method: string, args: unknown, caller: Caller = PEER_CALLER): Promise<unknown> {
    if (!this.dispatch) throw new VireoError('BUSY', 'this host is still starting: try again in a moment');
    const out = await this.dispatch(method, args, caller);
    if (!out.ok) throw new VireoError(out.error.code, out.error.message, out.error.details);
    return out.result;
  }

  private async view(ref: string): Promise<PeerVm> {
    const entry = this.p.vms.resolve(ref);
    const m = this.p.vms.machineFor(entry);
    const s = this.p.vms.summary(entry);
    const ep = entry.config ? this.p.vms.endpoints(entry) : null;
    const tree = entry.config ? ((await this.call('snapshots.list', { vm: entry.id }).catch(() => null)) as SnapshotTree | null) : null;
    return { id: entry.id, name: s.name, state: s.state, info: entry.config ? peerInfo(entry.id, entry.config, m.isActive && !!ep?.display?.socket) : null, snapshots: tree ? peerSnapshots(tree) : [] };
  }

  async handle(op: PeerVmOp, args: Record<string, unknown>, ctx: { closed: AbortSignal; localAddress: string }): Promise<unknown> {
    switch (op) {
      case 'vm-list':
        parse(z.object({}).strict(), op, args);
        return this.p.vms.list().map((v) => ({ id: v.id, name: v.name, state: v.state }));
      case 'vm-get':
        return this.view(parse(VmArgs, op, args).vm);
      case 'vm-control': {
        const a = parse(ControlArgs, op, args);
        const { id } = this.p.vms.resolve(a.vm);
        if (a.action === 'start') await this.call('vms.start', { vm: id });
        else if (a.action === 'shutdown') await this.call('vms.stop', { vm: id });
        else if (a.action === 'poweroff') await this.call('vms.stop', { vm: id, force: true });
        else if (a.action === 'pause') await this.call('vms.pause', { vm: id });
        else if (a.action === 'resume') await this.call('vms.resume', { vm: id });
        else await this.call('vms.reset', { vm: id });
        return this.view(id);
      }
      case 'vm-screen':
      case 'vm-console': {
        const a = parse(ScreenArgs, op, args);
        const entry = this.p.vms.resolve(a.vm);
        const name = entry.config?.name ?? entry.id;
        if (op === 'vm-console' && !entry.config?.serial.enabled) throw new VireoError('UNSUPPORTED', `"${name}" on this host has no serial port: enable it in its Settings → Serial there`);
        const socket = () => {
          const e = this.p.library.get(entry.id);
          if (!e || !this.p.vms.machineFor(e).isActive) return null;
          const ep = this.p.vms.endpoints(e);
          return (op === 'vm-screen' ? ep?.display?.socket : ep?.console?.socket) ?? null;
        };
        if (!socket()) throw new VireoError('INVALID_STATE', `"${name}" on this host is not running: start it to ${op === 'vm-screen' ? 'see its screen' : 'use its console'}`);
        return serveScreen(ctx.localAddress, await pairingSecret(this.p.home), a.salt, socket, ctx.closed);
      }
    }
  }
}
