import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { refuseUpgrade } from '../engine/display/bridge.ts';
import type { Migrations } from '../engine/migrate/service.ts';

// `vireo serve`'s /migrate route: another Vireo engine moving a VM here. It is not behind the
// serve token: the peer proves the pairing secret instead (engine/migrate/channel.ts), and can
// make only what an incoming move makes, one VM in this library. A browser page (any Origin)
// has no business here.

export function migrateUpgrade(migrations: Pick<Migrations, 'handleUpgrade'> | undefined, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  if (req.headers.origin !== undefined) return refuseUpgrade(socket, 403, 'Forbidden', 'the migration route is for Vireo engines, not pages');
  if (!migrations) {
    return refuseUpgrade(socket, 503, 'Service Unavailable', "not yet: this serve fronts another process that owns the library; moves go to a serve that owns it");
  }
  migrations.handleUpgrade(req, socket, head);
}
