import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { ParsedArgs } from '../../api/contract.ts';
import { parseSize } from '../../api/schemas/common.ts';
import { VmConfigSchema, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { RemoteHost } from '../../api/host-types.ts';
import { baseConfig } from '../library/library.ts';
import { mergePatch } from '../library/config-store.ts';
import { defaultsForOs } from '../qemu/defaults.ts';
import { getOs } from '../osdetect/detect.ts';
import type { JobContext } from '../jobs.ts';
import { configToDomainXml } from './domxml.ts';
import { parseXml, childrenOf, child } from './xml.ts';
import type { Virsh } from './virsh.ts';
import { poolDir, serialPaths } from './console.ts';

// A VM made from the wizard's answers on a libvirt host: the same config Vireo would build
// (defaults for the OS, the machine shape the user chose) rendered to domain XML, its disk a
// volume created in a storage pool of the host and its ISO uploaded into that pool through the
// connection (virsh vol-upload), so it works the same on qemu+ssh:// as on qemu:///session.
// A failure at any step removes what the earlier steps made on the host.

export type RemoteCreateArgs = ParsedArgs<'hosts.create'>;

/** The Vireo config for the wizard's answers (pure but for the new id and MAC). */
export function remoteConfig(a: RemoteCreateArgs): VmConfig {
  const os = a.os ? getOs(a.os) : undefined;
  if (a.os && !os) throw new VireoError('INVALID_ARGUMENT', `unknown OS id "${a.os}": run \`vireo os list\` to see the ids`, { field: 'os' });
  const firmware = a.firmware ?? os?.firmware ?? 'bios';
  const secureBoot = a.secureBoot ?? (firmware === 'uefi' && (os?.secureBoot ?? false));
  const tpm = a.tpm ?? os?.tpm ?? false;
  if (secureBoot && firmware !== 'uefi') throw new VireoError('INVALID_ARGUMENT', 'Secure Boot needs UEFI firmware: set firmware to uefi', { field: 'secureBoot' });
  const profile = a.profile ?? os?.profile ?? 'modern';
  const rec = os?.recommended ?? { cpus: 2, memoryMiB: 2048, diskGiB: 20 };
  const memoryMiB = a.memory !== undefined ? size(a.memory, 'M', 'memory') / 1024 ** 2 : rec.memoryMiB;
  if (!Number.isInteger(memoryMiB) || memoryMiB < 16) throw new VireoError('INVALID_ARGUMENT', `memory must be a whole number of MiB, at least 16 (got ${memoryMiB})`, { field: 'memory' });
  const base = baseConfig(randomUUID(), a.name);
  const defaults = defaultsForOs({ family: os?.family ?? 'other', id: os?.id ?? 'unknown', profile, firmware, secureBoot, tpm });
  const config = VmConfigSchema.parse(
    mergePatch(mergePatch(base, defaults), {
      os: { id: os?.id ?? 'unknown', name: os?.name ?? 'Unknown OS', family: os?.family ?? 'other' },
      profile,
      system: { cpus: a.cpus ?? rec.cpus, memoryMiB, firmware, secureBoot, tpm, ...(a.accel ? { accel: a.accel } : {}) },
      cdrom: { iso: a.iso ?? null },
      boot: { order: a.iso ? ['cdrom', 'disk'] : ['disk', 'cdrom'] },
    }),
  );
  const diskBytes = a.disk !== undefined ? size(a.disk, 'G', 'disk') : rec.diskGiB * 1024 ** 3;
  config.disks = diskBytes > 0 ? [{ id: 'disk0', file: 'disk0.qcow2', format: 'qcow2', bus: config.disks[0]?.bus ?? (profile === 'legacy' ? 'ide' : 'virtio'), readOnly: false, cache: 'writeback', discard: true }] : [];
  return config;
}

function size(v: string | number, unit: 'M' | 'G', field: string): number {
  try {
    return parseSize(v, unit);
  } catch (e) {
    throw new VireoError('INVALID_ARGUMENT', `${field}: ${(e as Error).message}`, { field });
  }
}

/** The host's accelerator for x86_64/aarch64 guests, from its capabilities. */
export async function hostDomainType(v: Virsh, arch: string, accel: string | undefined): Promise<'kvm' | 'qemu'> {
  if (accel === 'tcg') return 'qemu';
  const caps = parseXml(await v.run(['capabilities']));
  const guest = childrenOf(caps, 'guest').find((g) => child(g, 'arch')?.attrs.name === arch);
  const hasKvm = childrenOf(child(guest, 'arch'), 'domain').some((d) => d.attrs.type === 'kvm');
  if (accel === 'kvm' && !hasKvm) throw new VireoError('UNSUPPORTED', `the host offers no KVM for ${arch} guests: choose TCG (accel tcg) or leave the accelerator to the host`, { field: 'accel' });
  if (!guest) throw new VireoError('UNSUPPORTED', `the host's libvirt has no ${arch} emulator: install qemu-system on the host`, { field: 'arch' });
  return hasKvm ? 'kvm' : 'qemu';
}

export interface Created {
  config: VmConfig;
  xml: string;
  dropped: string[];
}

export async function createOnHost(v: Virsh, h: RemoteHost, a: RemoteCreateArgs, job: JobContext): Promise<Created> {
  const config = remoteConfig(a);
  const pool = a.pool ?? 'default';
  const existing = (await v.run(['list', '--all', '--name'])).split('\n').map((s) => s.trim());
  if (existing.includes(config.name)) throw new VireoError('ALREADY_EXISTS', `${h.name} already has a domain "${config.name}": choose another name`, { field: 'name' });
  const poolInfo = await v.run(['pool-info', '--pool', pool]).catch(() => null);
  if (!poolInfo) {
    throw new VireoError('NOT_FOUND', `${h.name} has no storage pool "${pool}" for the VM's disk: create it on the host (virsh pool-define-as ${pool} dir --target DIR; virsh pool-build ${pool}; virsh pool-start ${pool}; virsh pool-autostart ${pool}) or name another pool`, { field: 'pool' });
  }
  if (!/State:\s+running/.test(poolInfo)) await v.run(['pool-start', '--pool', pool]);
  let isoBytes = 0;
  if (a.iso) {
    const st = await stat(a.iso).catch(() => null);
    if (!st?.isFile()) throw new VireoError('INVALID_ARGUMENT', `ISO ${a.iso} is not a readable file: choose an ISO on this machine (it is uploaded to the host)`, { field: 'iso' });
    isoBytes = st.size;
  }
  const domainType = await hostDomainType(v, config.arch, a.accel);
  const made: string[] = [];
  const vol = (n: string) => `${config.name.replace(/[^A-Za-z0-9._-]/g, '_')}-${n}`;
  try {
    const diskPaths: Record<string, string> = {};
    for (const d of config.disks) {
      const name = vol(`${d.id}.qcow2`);
      const bytes = a.disk !== undefined ? parseSize(a.disk, 'G') : 20 * 1024 ** 3;
      await v.run(['vol-create-as', '--pool', pool, '--name', name, '--capacity', `${bytes}b`, '--format', 'qcow2'], { signal: job.signal });
      made.push(name);
      diskPaths[d.id] = (await v.run(['vol-path', '--pool', pool, name])).trim();
    }
    job.progress(0.1);
    let isoPath: string | null = null;
    if (a.iso) {
      const name = vol(basename(a.iso).replace(/[^A-Za-z0-9._-]/g, '_'));
      await v.run(['vol-create-as', '--pool', pool, '--name', name, '--capacity', `${isoBytes}b`, '--format', 'raw'], { signal: job.signal });
      made.push(name);
      await v.run(['vol-upload', '--pool', pool, '--vol', name, '--file', a.iso], { signal: job.signal, timeoutMs: 30 * 60_000 });
      isoPath = (await v.run(['vol-path', '--pool', pool, name])).trim();
    }
    job.progress(0.8);
    const sp = serialPaths(h.uri, await poolDir(v, pool), config.name, config.id);
    const { xml, dropped } = configToDomainXml(config, { domainType, diskPaths, isoPath, serial: 'problem' in sp ? null : sp });
    if ('problem' in sp && config.serial.enabled) dropped.push(sp.problem);
    await v.define(xml);
    if (a.start) await v.run(['start', '--domain', config.name]);
    job.progress(1);
    return { config, xml, dropped };
  } catch (e) {
    await v.run(['undefine', '--domain', config.name, '--nvram']).catch(() => {});
    for (const name of made.reverse()) await v.run(['vol-delete', '--pool', pool, name]).catch(() => {});
    throw e;
  }
}
