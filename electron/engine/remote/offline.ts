import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { RemoteHost, VmOfflineMoveResult } from '../../api/host-types.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { newMac } from '../library/library.ts';
import type { EngineParts } from '../parts.ts';
import { loadMeta } from '../snapshots/meta.ts';
import { offlineRefusals } from '../migrate/compat.ts';
import { nvramFile, rawNvram, redefineSnapshots, SNAPSHOTS_AS_DISK_STATES } from './carry.ts';
import { poolDir, serialPaths } from './console.ts';
import { configToDomainXml, domainXmlToInfo } from './domxml.ts';
import { hostDomainType } from './create.ts';
import type { Virsh } from './virsh.ts';

// A stopped VM of this library moved (or copied) onto a libvirt host: each disk uploaded
// into a new volume of the host's pool (virsh vol-upload, so qemu+ssh:// works as well as a
// local URI), the config rendered to domain XML (domxml.ts) and defined. The UEFI variable
// store goes as a raw volume named by the domain's <nvram>, and the snapshots inside the
// images are redefined in libvirt as disk states (carry.ts says why not with their RAM). Not
// yet carried: TPM state (libvirt keeps it in files of its own that no libvirt call writes);
// a VM with it is refused with that reason. A failure removes what was made on the host; the
// VM stays here until the domain is defined there.

export async function moveToLibvirt(p: EngineParts, h: RemoteHost, v: Virsh, ref: string, o: { copy?: boolean; start?: boolean; pool?: string }): Promise<VmOfflineMoveResult> {
  const { vms, jobs } = p;
  const entry = vms.resolve(ref);
  const config = entry.config;
  if (!config) throw new VireoError('BROKEN_CONFIG', `"${ref}" has a broken config: repair it first`);
  const state = vms.machineFor(entry).state;
  if (state !== 'stopped' && state !== 'crashed') throw new VireoError('INVALID_STATE', `"${config.name}" is ${state}: a move onto a libvirt host takes a stopped VM (shut it down${state === 'saved' ? ', or discard its saved state' : ''})`);
  const dropped: string[] = [];
  if (config.cdrom.iso || config.cdrom.extra.some((x) => x.iso)) dropped.push("the CD's ISO, a file of this machine: insert one there");
  if (config.floppy) dropped.push('the floppy image, a file of this machine');
  const nvram = config.system.firmware === 'uefi' ? nvramFile(entry.paths.dir) : null;
  if (config.system.firmware === 'uefi' && !nvram) dropped.push('the UEFI variables: this VM has no store yet, so libvirt makes a fresh one from its template');
  const sent: VmConfig = {
    ...config,
    cdrom: { ...config.cdrom, iso: null, extra: config.cdrom.extra.map((x) => ({ ...x, iso: null })) },
    floppy: null,
    ...(o.copy ? { id: randomUUID(), networks: config.networks.map((n) => ({ ...n, mac: newMac() })) } : {}),
  };
  const refusals = offlineRefusals(sent);
  const meta = await loadMeta(entry.paths.snapshotsMeta);
  if (meta.pending) refusals.push('a snapshot operation was interrupted: open its Snapshots tab (which finishes or undoes it) first');
  if (existsSync(entry.paths.tpmState) && readdirSync(entry.paths.tpmState).length) refusals.push('not yet: its TPM state would be lost (libvirt keeps TPM state in files of its own that no libvirt call writes): move it to a Vireo host, which takes it');
  const img = new QemuImg(await p.host.qemuImg());
  const infos = await Promise.all(config.disks.map((d) => img.info(isAbsolute(d.file) ? d.file : join(entry.paths.dir, d.file))));
  const tagsOf: Record<string, string[]> = {};
  for (const [n, d] of config.disks.entries()) tagsOf[d.id] = infos[n]!.snapshots.map((t) => t.name);
  infos.forEach((i, n) => i.backingFile && refusals.push(`disk ${config.disks[n]!.id} is built on a base image (a linked clone): make a full clone and move that`));
  if (refusals.length) throw new VireoError('UNSUPPORTED', `cannot move "${config.name}" to ${h.name}: ${refusals.join('; ')}`, { reasons: refusals });
  if ((await v.run(['list', '--all', '--name'])).split('\n').map((s) => s.trim()).includes(config.name)) throw new VireoError('ALREADY_EXISTS', `${h.name} already has a domain "${config.name}": remove or rename one first`);
  const pool = o.pool ?? 'default';
  if (!(await v.run(['pool-info', '--pool', pool]).catch(() => null))) throw new VireoError('NOT_FOUND', `${h.name} has no storage pool "${pool}" for the disks: create one there`, { field: 'pool' });
  const domainType = await hostDomainType(v, config.arch, config.system.accel === 'tcg' ? 'tcg' : undefined);

  const r = await vms.locks.run(entry.id, 'a move to another host', () =>
    jobs.run({ kind: 'migrate', title: `${o.copy ? 'Copy' : 'Move'} ${config.name} to ${h.name} (stopped)`, vmId: entry.id, cancellable: true }, async (job) => {
      const made: string[] = [];
      let defined = false;
      const total = infos.reduce((s, i) => s + (i.actualSize ?? i.virtualSize), 0);
      job.bytes(total || null);
      try {
        const diskPaths: Record<string, string> = {};
        for (const [n, d] of config.disks.entries()) {
          const name = `${config.name.replace(/[^A-Za-z0-9._-]/g, '_')}-${d.id}.${d.format}`;
          await v.run(['vol-create-as', '--pool', pool, '--name', name, '--capacity', `${infos[n]!.virtualSize}b`, '--format', d.format === 'raw' ? 'raw' : 'qcow2'], { signal: job.signal });
          made.push(name);
          await v.run(['vol-upload', '--pool', pool, '--vol', name, '--file', isAbsolute(d.file) ? d.file : join(entry.paths.dir, d.file)], { signal: job.signal, timeoutMs: 6 * 60 * 60_000 });
          diskPaths[d.id] = (await v.run(['vol-path', '--pool', pool, name])).trim();
          job.progress((n + 1) / Math.max(1, config.disks.length) * 0.95);
        }
        let nvramPath: string | null = null;
        if (nvram) {
          const raw = await rawNvram(img.binary, nvram);
          try {
            const name = `${config.name.replace(/[^A-Za-z0-9._-]/g, '_')}-VARS.fd`;
            await v.run(['vol-create-as', '--pool', pool, '--name', name, '--capacity', `${statSync(raw.path).size}b`, '--format', 'raw'], { signal: job.signal });
            made.push(name);
            await v.run(['vol-upload', '--pool', pool, '--vol', name, '--file', raw.path], { signal: job.signal });
            nvramPath = (await v.run(['vol-path', '--pool', pool, name])).trim();
          } finally {
            await raw.done();
          }
        }
        const sp = serialPaths(h.uri, await poolDir(v, pool), sent.name, sent.id);
        const xml = configToDomainXml(sent, { domainType, diskPaths, isoPath: null, nvramPath, serial: 'problem' in sp ? null : sp });
        if ('problem' in sp && sent.serial.enabled) xml.dropped.push(sp.problem);
        await v.define(xml.xml);
        defined = true;
        const snapshots = meta.nodes.length ? await redefineSnapshots(v, config.name, meta, await diskTags(v, config.name, config.disks.map((d) => ({ path: diskPaths[d.id]!, tags: tagsOf[d.id]! }))), job.signal) : 0;
        if (o.start) await v.run(['start', '--domain', config.name], { timeoutMs: 120_000 });
        job.progress(1);
        return { vm: config.name, id: sent.id, host: h.name, copied: !!o.copy, snapshots, tpm: false, dropped: [...dropped, ...xml.dropped], notes: [...(nvramPath ? ['UEFI variables carried (as they are now; libvirt keeps no earlier versions of them)'] : []), ...(snapshots ? [SNAPSHOTS_AS_DISK_STATES] : [])] };
      } catch (e) {
        if (defined) await v.run(['undefine', '--domain', config.name, '--snapshots-metadata', '--nvram']).catch(() => {});
        for (const name of made.reverse()) await v.run(['vol-delete', '--pool', pool, name]).catch(() => {});
        if (job.signal.aborted) throw new VireoError('CANCELLED', `the move of "${config.name}" to ${h.name} was cancelled: it stays here, nothing is left there`);
        throw e;
      }
    }),
  );
  if (!o.copy) {
    await vms.delete(entry.id);
    await p.clones.released(entry.id, false);
  }
  return r;
}

/** Each disk's target dev in the defined domain, with the snapshot tags its image holds. */
async function diskTags(v: Virsh, domain: string, disks: { path: string; tags: string[] }[]): Promise<Record<string, string[]>> {
  const info = domainXmlToInfo(await v.run(['dumpxml', '--inactive', '--domain', domain]));
  const r: Record<string, string[]> = {};
  for (const d of disks) {
    const dev = info.disks.find((k) => k.file === d.path)?.target;
    if (dev) r[dev] = d.tags;
  }
  return r;
}
