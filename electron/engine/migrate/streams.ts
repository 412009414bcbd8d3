import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { QEMU_IDS } from '../qemu/argv/context.ts';
import type { QmpClient } from '../qmp/client.ts';
import type { FlashSizes } from './compat.ts';
import { PSK_IDENTITY } from './pairing.ts';

// QEMU's side of a Vireo↔Vireo move, both ends: the TLS-PSK credentials object (the key file
// in the VM's private runtime folder, removed as soon as QEMU has read it), the NBD export of
// the target's new disks, the source's mirror jobs into them, and the migration's state.

export const TLS_ID = 'vireo-mig-tls';
export const mirrorId = (disk: string) => `vireo-mig-${disk}`;

/**
 * tls-creds-psk from a keys.psk in the VM's private runtime folder. A client reads its key at
 * object-add, so the file goes at once; a server (gnutls) reads it at each handshake, so it
 * stays until the returned function is called, at the end of the move.
 */
export async function addPskCreds(qmp: QmpClient, runtimeDir: string, endpoint: 'server' | 'client', keyHex: string): Promise<() => Promise<void>> {
  const dir = join(runtimeDir, 'mig-psk');
  const remove = () => rm(dir, { recursive: true, force: true });
  await remove();
  await mkdir(dir, { mode: 0o700 });
  try {
    await writeFile(join(dir, 'keys.psk'), `${PSK_IDENTITY}:${keyHex}\n`, { mode: 0o600 });
    await qmp.execute('object-add', { 'qom-type': 'tls-creds-psk', id: TLS_ID, dir, endpoint, ...(endpoint === 'client' ? { username: PSK_IDENTITY } : {}) });
  } catch (e) {
    await remove();
    throw e;
  }
  if (endpoint === 'client') await remove();
  return remove;
}

/** A TCP port free on this address right now (QEMU binds it a moment later). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
  downtime?: number;
  'total-time'?: number;
  ram?: { transferred?: number; remaining?: number; total?: number };
}

export const queryMigrate = (qmp: QmpClient) => qmp.execute<MigrateInfo>('query-migrate');

/** Polls until the migration is completed; a failed or cancelled one throws with QEMU's reason. */
export async function untilMigrated(qmp: QmpClient, what: string, onPoll?: (i: MigrateInfo) => void, signal?: AbortSignal): Promise<MigrateInfo> {
  for (;;) {
    const info = await queryMigrate(qmp);
    onPoll?.(info);
    if (info.status === 'completed') return info;
    if (info.status === 'failed' || info.status === 'cancelled') throw new VireoError('QEMU_FAILED', `${what}: the migration ${info.status}${info['error-desc'] ? `: ${info['error-desc']}` : ''}`);
    if (signal?.aborted) throw new VireoError('CANCELLED', `${what}: cancelled`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface BlockJob {
  device: string;
  len: number;
  offset: number;
  ready: boolean;
  status?: string;
}
export const blockJobs = async (qmp: QmpClient, ids: readonly string[]) => (await qmp.execute<BlockJob[]>('query-block-jobs')).filter((j) => ids.includes(j.device));

/**
 * The UEFI flash chips of this QEMU (its pflash0/pflash1 format nodes), null without UEFI.
 * Their contents need no copy of their own: a pflash is a RAM block of the migration, sent in
 * its last stop-and-copy pass with the guest's latest variable writes, and the target's QEMU
 * writes the variable store's block back to its own file when the guest resumes there
 * (hw/block/pflash_cfi01.c, "pflash_postload_cb: updating bdrv").
 */
export async function flashSizes(qmp: QmpClient): Promise<FlashSizes | null> {
  const nodes = await qmp.execute<{ 'node-name'?: string; image?: { 'virtual-size'?: number } }[]>('query-named-block-nodes', { flat: true });
  const size = (node: string) => nodes.find((n) => n['node-name'] === node)?.image?.['virtual-size'];
  const code = size(QEMU_IDS.pflashCode);
  const vars = size(QEMU_IDS.pflashVars);
  return code && vars ? { code, vars } : null;
}
