import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { VireoError } from '../../api/errors.ts';
import type { RemoteHost } from '../../api/host-types.ts';
import type { EngineParts } from '../parts.ts';
import { serveChannel } from './channel.ts';
import { IncomingMigrations } from './incoming.ts';
import { moveLive, type MoveResult } from './outgoing.ts';
import { moveOffline } from './offline.ts';
import type { VmOfflineMoveResult } from '../../api/host-types.ts';
import { PeerChannel } from './channel.ts';
import { pairingSecret } from './pairing.ts';
import { PeerScreens } from './peer-screen.ts';
import { isPeerVmOp, PeerVmRequests } from './peer-vms.ts';
import type { Dispatch } from '../../api/dispatch.ts';

// Vireo↔Vireo moves, both roles of this engine: the target's side answers on `vireo serve`'s
// /migrate route (server.ts hands the upgrade here), the source's side is a job of its own.

export class Migrations {
  readonly incoming: IncomingMigrations;
  /** a paired source's questions about this library's VMs (list, state, start/stop, screen) */
  readonly peerVms: PeerVmRequests;
  /** this engine as the source: the screens of VMs on Vireo hosts, for the display bridge */
  readonly screens: PeerScreens;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });

  constructor(private readonly p: EngineParts) {
    this.incoming = new IncomingMigrations(p);
    this.peerVms = new PeerVmRequests(p);
    this.screens = new PeerScreens(p.rtRoot);
  }

  /** The engine's dispatch, once its handlers exist: a peer's VM control goes through it as a confined client's. */
  bind(dispatch: Dispatch): void {
    this.peerVms.bind(dispatch);
  }

  /** The pairing secret `vireo serve` prints: a source adds this host with it. */
  secret = (opts: { rotate?: boolean } = {}) => pairingSecret(this.p.home, opts);

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const local = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    void this.secret().then((secret) =>
      this.wss.handleUpgrade(req, socket, head, (ws) =>
        serveChannel(ws, secret, local, (op, args, ctx) => (isPeerVmOp(op) ? this.peerVms.handle(op, args, ctx) : this.incoming.handle(op, args, ctx))),
      ),
    );
  }

  /** Moves a running VM of this library to a paired Vireo host; afterwards it is there and no longer here. */
  async move(host: RemoteHost, vm: string, o: { bandwidthMiB?: number }): Promise<MoveResult> {
    if (!host.secret) throw new VireoError('INVALID_ARGUMENT', `${host.name} is a libvirt host: move a VM there with hosts.migrate, or stopped`);
    const { vms, jobs } = this.p;
    const entry = vms.resolve(vm);
    const name = entry.config?.name ?? entry.id;
    const peer = { name: host.name, uri: host.uri, secret: host.secret };
    const r = await vms.locks.run(entry.id, 'a move to another host', () =>
      jobs.run({ kind: 'migrate', title: `Move ${name} to ${host.name} (live)`, vmId: entry.id, cancellable: true }, async (job) => {
        const out = await moveLive(this.p, peer, entry.id, o, job);
        // The guest runs on the target now: this QEMU holds only a stopped copy.
        await vms.machineFor(entry).stop({ force: true, timeoutMs: 10_000 });
        return out;
      }),
    );
    await vms.delete(entry.id);
    await this.p.clones.released(entry.id, false);
    return r;
  }

  /** Moves (or copies) a stopped VM with its folder to a paired Vireo host; a move removes it here once it is there. */
  async moveOffline(host: RemoteHost, vm: string, o: { copy?: boolean; start?: boolean }): Promise<VmOfflineMoveResult> {
    if (!host.secret) throw new VireoError('INVALID_ARGUMENT', `${host.name} is a libvirt host`);
    const { vms, jobs } = this.p;
    const entry = vms.resolve(vm);
    const name = entry.config?.name ?? entry.id;
    const peer = { name: host.name, uri: host.uri, secret: host.secret };
    const r = await jobs.run({ kind: 'migrate', title: `${o.copy ? 'Copy' : 'Move'} ${name} to ${host.name} (stopped)`, vmId: entry.id, cancellable: true }, (job) => moveOffline(this.p, peer, entry.id, o, job));
    if (!o.copy) {
      await vms.delete(entry.id);
      await this.p.clones.released(entry.id, false);
    }
    if (o.start) {
      const ch = await PeerChannel.connect(host.uri, host.secret);
      try {
        await ch.call('start', { id: r.id }, 5 * 60_000);
      } finally {
        ch.close();
      }
    }
    return r;
  }
}
