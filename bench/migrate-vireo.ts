import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../electron/engine/index.ts';
import { startServer } from '../electron/server/server.ts';
import { ensureFixtures } from '../test/fixtures/guest.ts';
import { runVireo } from '../test/integration/cli-helpers.ts';
import { waitForReady } from '../test/integration/helpers.ts';
import { startVireoPeer } from '../test/integration/vireo-peer-helpers.ts';
import { log } from './lib/common.ts';

// The Vireo↔Vireo half of the migration bench (migrate.ts): the same test guest (160 MiB RAM;
// its hybrid ISO as its 64 MiB-class disk, so it boots from disk, as a live move needs no
// file of this machine) moved live back and forth between this process's engine, served on
// its veth address, and a `vireo serve` in a network namespace (test/integration/
// vireo-peer-helpers.ts), each paired with the other. Downtime is QEMU's own figure on the
// source (query-migrate "downtime": the last RAM pass with the guest stopped), total the move
// as the caller waits for it (mirror of the disk included).

export interface VireoMoves {
  down: number[];
  total: number[];
}

export async function vireoMoves(rounds: number, bench: string): Promise<VireoMoves> {
  const home = await mkdtemp(join(tmpdir(), 'vireo-bench-h2mig-'));
  const peer = await startVireoPeer('bm', 245);
  const engine = await createEngine({ home });
  const out: VireoMoves = { down: [], total: [] };
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  try {
    server = await startServer({ engine, host: peer.here, port: 0, staticDir: join(home, 'none') });
    await engine.client.call('hosts.add', { name: 'there', uri: peer.uri, secret: peer.secret });
    const back = await runVireo(peer.home, ['host', 'add', 'home', `vireo://${peer.here}:${server.port}`, '--secret', await engine.migrations.secret()]);
    if (back.code !== 0) throw new Error(`pairing back failed: ${back.stderr}`);
    const fx = await ensureFixtures();
    const vm = await engine.client.call('vms.create', { name: 'h2-bench-mover', importDisk: fx.iso, memory: '160M', cpus: 1, firmware: 'bios' });
    await waitForReady(await engine.client.call('vms.start', { vm: vm.id }), 150_000);
    for (let i = 0; i < rounds; i++) {
      const there = await engine.client.call('vms.migrate', { vm: vm.id, to: 'there' });
      out.down.push(there.downtimeMs ?? NaN);
      out.total.push(there.totalMs);
      log(bench, `round ${i + 1}: Vireo→Vireo out downtime ${there.downtimeMs} ms, total ${there.totalMs} ms`);
      const r = await peer.call('vms.migrate', { vm: vm.id, to: 'home' });
      if (r.error) throw new Error(`the move back failed: ${r.error.message}`);
      const home2 = r.result as { downtimeMs: number | null; totalMs: number };
      out.down.push(home2.downtimeMs ?? NaN);
      out.total.push(home2.totalMs);
      log(bench, `round ${i + 1}: Vireo→Vireo back downtime ${home2.downtimeMs} ms, total ${home2.totalMs} ms`);
    }
    await engine.client.call('vms.stop', { vm: vm.id, force: true }).catch(() => {});
  } finally {
    await server?.close();
    await engine.dispose();
    await peer.stop();
    await rm(home, { recursive: true, force: true });
  }
  return out;
}
