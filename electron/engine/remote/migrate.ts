import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { RemoteHost } from '../../api/host-types.ts';
import type { JobContext } from '../jobs.ts';
import { poolDir, serialPaths } from './console.ts';
import { domainXmlToInfo } from './domxml.ts';
import { escapeXml } from './xml.ts';
import type { Virsh } from './virsh.ts';

// Live migration between two libvirt hosts with their disks (no shared storage): libvirt's
// own migration (virsh migrate --live --copy-storage-all), driven from here as a job. The
// target's disks are volumes Vireo creates first in the target's pool (same size and format;
// the domain XML given to the target names them), so a target on the same file system never
// writes into the source's files. Progress is the source's domjobinfo; cancel is domjobabort,
// after which libvirt leaves the domain running on the source, and the volumes made on the
// target are deleted. Compatibility (hypervisor, machine type, CPU) is checked by libvirt
// itself at the start, and its refusal is the job's error.

export interface MigrateOptions {
  /** the address the source's QEMU reaches the target on (its name in the target URI by default) */
  address?: string;
  /** the target's storage pool for the disks ("default") */
  pool?: string;
  /** MiB/s cap for the memory and disk streams */
  bandwidthMiB?: number;
}

export function targetAddress(uri: string, given?: string): string {
  if (given) return given;
  const host = /^[a-z0-9+]+:\/\/(?:[^@/]*@)?([^/:?]+)/i.exec(uri)?.[1];
  if (!host || host === 'localhost') throw new VireoError('INVALID_ARGUMENT', `the target ${uri} names no host: give the address its QEMU listens on for the migration streams (address)`, { field: 'address' });
  return host;
}

/** The migratable XML with each writable disk (and Vireo's serial socket and log) pointed at its path on the target. */
export function retargetDisks(xml: string, paths: Map<string, string>): string {
  let out = xml;
  for (const [from, to] of paths) {
    for (const attr of ['file', 'path']) out = out.split(`${attr}='${escapeXml(from)}'`).join(`${attr}='${escapeXml(to)}'`).split(`${attr}="${escapeXml(from)}"`).join(`${attr}="${escapeXml(to)}"`);
  }
  return out;
}

export async function migrateLive(src: { h: RemoteHost; v: Virsh }, dst: { h: RemoteHost; v: Virsh }, domain: string, o: MigrateOptions, job: JobContext): Promise<void> {
  const { v } = src;
  const state = (await v.run(['domstate', '--domain', domain])).trim();
  if (state !== 'running' && state !== 'paused') throw new VireoError('INVALID_STATE', `${domain} on ${src.h.name} is ${state}: a live migration moves a running VM (start it, or move it stopped)`);
  if ((await dst.v.run(['list', '--all', '--name'])).split('\n').map((s) => s.trim()).includes(domain)) throw new VireoError('ALREADY_EXISTS', `${dst.h.name} already has a domain "${domain}": remove or rename it there first`);
  const address = targetAddress(dst.h.uri, o.address);
  const pool = o.pool ?? 'default';
  if (!(await dst.v.run(['pool-info', '--pool', pool]).catch(() => null))) throw new VireoError('NOT_FOUND', `${dst.h.name} has no storage pool "${pool}" for the disks: create one there or name another`, { field: 'pool' });
  const xml = await v.run(['dumpxml', '--domain', domain, '--migratable']);
  const disks = domainXmlToInfo(xml).disks.filter((d) => d.device === 'disk' && !d.readOnly && d.file);
  const made: string[] = [];
  const paths = new Map<string, string>();
  const tmp = await mkdtemp(join(tmpdir(), 'vireo-migrate-'));
  let poll: NodeJS.Timeout | null = null;
  let aborting: Promise<unknown> | null = null;
  const onAbort = () => {
    aborting = v.run(['domjobabort', '--domain', domain]).catch(() => {});
  };
  job.signal.addEventListener('abort', onAbort);
  try {
    for (const d of disks) {
      const info = await v.run(['domblkinfo', '--domain', domain, d.target]);
      const bytes = /Capacity:\s+(\d+)/.exec(info)?.[1];
      if (!bytes) throw new VireoError('TOOL_FAILED', `cannot read the size of ${d.target} of ${domain}: ${info.trim()}`);
      const name = `${domain.replace(/[^A-Za-z0-9._-]/g, '_')}-${basename(d.file!)}`;
      await dst.v.run(['vol-create-as', '--pool', pool, '--name', name, '--capacity', `${bytes}b`, '--format', d.format === 'raw' ? 'raw' : 'qcow2']);
      made.push(name);
      paths.set(d.file!, (await dst.v.run(['vol-path', '--pool', pool, name])).trim());
    }
    // A Vireo-made serial (console.ts) lives in the source's pool directory: the target's own.
    const read = domainXmlToInfo(xml);
    if (read.console?.type === 'unix' && read.console.socket?.endsWith('.serial.sock')) {
      const sp = serialPaths(dst.h.uri, await poolDir(dst.v, pool), domain, read.uuid);
      if (!('problem' in sp)) {
        paths.set(read.console.socket, sp.socket);
        if (read.console.log) paths.set(read.console.log, sp.log);
      }
    }
    const file = join(tmp, 'target.xml');
    await writeFile(file, retargetDisks(xml, paths), { mode: 0o600 });
    poll = setInterval(() => {
      void v.run(['domjobinfo', '--domain', domain], { timeoutMs: 5000 }).then((out) => {
        const total = /Data total:\s+([\d.]+) (\w+)/.exec(out);
        const done = /Data processed:\s+([\d.]+) (\w+)/.exec(out);
        if (total && done) job.progress(Math.min(0.99, toBytes(done[1]!, done[2]!) / Math.max(1, toBytes(total[1]!, total[2]!))));
      }, () => {});
    }, 1000);
    poll.unref();
    job.progress(0);
    await v.run(
      [
        'migrate', '--live', '--copy-storage-all', '--persistent', '--undefinesource', '--xml', file,
        '--migrateuri', `tcp://${address}`, '--disks-uri', `tcp://${address}`,
        ...(o.bandwidthMiB ? ['--bandwidth', String(o.bandwidthMiB)] : []),
        '--domain', domain, '--desturi', dst.h.uri,
      ],
      { timeoutMs: 6 * 60 * 60_000 },
    );
    job.progress(1);
  } catch (e) {
    await aborting;
    for (const name of made) await dst.v.run(['vol-delete', '--pool', pool, name]).catch(() => {});
    if (job.signal.aborted) throw new VireoError('CANCELLED', `the migration of ${domain} was cancelled: it runs on ${src.h.name} as before, nothing is left on ${dst.h.name}`);
    throw e;
  } finally {
    if (poll) clearInterval(poll);
    job.signal.removeEventListener('abort', onAbort);
    await rm(tmp, { recursive: true, force: true });
  }
}

function toBytes(n: string, unit: string): number {
  const f: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
  return Number(n) * (f[unit] ?? 1);
}
