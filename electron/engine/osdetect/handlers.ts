import type { Handlers } from '../../api/contract.ts';
import type { DetectResult, OsEntry } from '../../api/types.ts';
import type { Confinement } from '../policy/confine.ts';
import { detectOs, getOs, listOses, type OsProfile } from './detect.ts';

// os.detect and os.list: what the ISO is (the path passes the caller's confinement first) and
// the OS table, as the API's shapes.

export function osHandlers(confine: Confinement): Pick<Handlers, 'os.detect' | 'os.list'> {
  return {
    'os.detect': async (a, c) => toApiDetect(await detectOs(await confine.existingFile(c, a.path, 'path', 'ISO'))),
    'os.list': async (a) =>
      listOses(a.query)
        .map((o) => getOs(o.id))
        .filter((o): o is OsProfile => !!o)
        .map(toOsEntry),
  };
}

export function toOsEntry(o: OsProfile): OsEntry {
  return {
    id: o.id,
    name: o.name,
    family: o.family,
    version: o.version ?? '',
    vendor: o.vendor,
    releaseDate: o.released,
    recommended: o.recommended,
    minimum: o.minimum,
    firmware: o.firmware,
    secureBoot: o.secureBoot,
    tpm: o.tpm,
    profile: o.profile,
    ...(o.requires ? { requires: o.requires } : {}),
  };
}

export function toApiDetect(d: Awaited<ReturnType<typeof detectOs>>): DetectResult {
  const iso = Object.fromEntries(Object.entries(d.iso ?? {}).map(([k, v]) => [k, String(v)]));
  const fw = { firmwareReason: d.firmwareReason, boot: d.boot };
  if (d.status !== 'detected') return { status: 'unknown', reason: d.reason, iso, ...(d.arch ? { arch: d.arch, archEvidence: d.archEvidence } : {}), firmware: d.firmware, ...fw };
  return { ...toOsEntry(d), status: 'detected', arch: d.arch, archEvidence: d.archEvidence, ...(d.build ? { build: d.build } : {}), iso, ...fw, ...(d.newerThanList ? { newerThanList: d.newerThanList } : {}) };
}

