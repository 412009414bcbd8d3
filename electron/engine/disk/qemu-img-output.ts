import { VireoError } from '../../api/errors.ts';
import { tail } from '../util/proc.ts';

// What qemu-img says, typed: its JSON reports decoded into interfaces, and its failures
// rewritten into what the user needs to know about the file.

export interface SnapshotInfo {
  id: string;
  name: string;
  /** bytes of saved RAM/device state; 0 for a disk-only (offline) snapshot */
  vmStateSize: number;
  dateSec: number;
  dateNsec: number;
  /** guest clock at the snapshot, ns */
  vmClockNs: number;
}

export interface ImageInfo {
  filename: string;
  format: string;
  virtualSize: number;
  actualSize?: number;
  clusterSize?: number;
  backingFile?: string;
  /** the backing file resolved against the image's folder */
  fullBackingFile?: string;
  backingFormat?: string;
  snapshots: SnapshotInfo[];
  dirty?: boolean;
  encrypted?: boolean;
  /** qcow2's own "corrupt" bit: QEMU found inconsistent metadata and refuses to write */
  corrupt?: boolean;
}

export interface CheckReport {
  ok: boolean;
  corruptions: number;
  leaks: number;
  /** errors that stopped the check itself (exit code 1) */
  checkErrors: number;
  /** false when the format has no consistency checks (raw, vpc, ...): nothing could be wrong */
  supported: boolean;
  raw: unknown;
}

export const CHECK_HINT = 'check the path or run `vireo disk check`';

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

export function parseJson(stdout: string, args: string[], binary: string): Record<string, unknown> {
  try {
    const j = JSON.parse(stdout) as unknown;
    if (j && typeof j === 'object' && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new VireoError('TOOL_FAILED', `${binary} printed no JSON report; update qemu-utils`, { argv: [binary, ...args], stdout: tail(stdout, 5) });
}

export function parseInfo(j: Record<string, unknown>): ImageInfo {
  const snaps = Array.isArray(j.snapshots) ? (j.snapshots as Array<Record<string, unknown>>) : [];
  const specific = (j['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data;
  return {
    filename: str(j.filename) ?? '',
    format: str(j.format) ?? 'raw',
    virtualSize: num(j['virtual-size']) ?? 0,
    actualSize: num(j['actual-size']),
    clusterSize: num(j['cluster-size']),
    backingFile: str(j['backing-filename']),
    fullBackingFile: str(j['full-backing-filename']),
    backingFormat: str(j['backing-filename-format']),
    snapshots: snaps.map((s) => ({
      id: String(s.id ?? ''),
      name: String(s.name ?? ''),
      vmStateSize: num(s['vm-state-size']) ?? 0,
      dateSec: num(s['date-sec']) ?? 0,
      dateNsec: num(s['date-nsec']) ?? 0,
      vmClockNs: (num(s['vm-clock-sec']) ?? 0) * 1e9 + (num(s['vm-clock-nsec']) ?? 0),
    })),
    dirty: typeof j['dirty-flag'] === 'boolean' ? j['dirty-flag'] : undefined,
    encrypted: typeof j.encrypted === 'boolean' ? j.encrypted : undefined,
    corrupt: typeof specific?.corrupt === 'boolean' ? specific.corrupt : undefined,
  };
}

/** The counts of a `qemu-img check --output=json` report; `code` is qemu-img's exit code. */
export function parseCheck(j: Record<string, unknown>, code: number): CheckReport {
  const corruptions = num(j.corruptions) ?? 0;
  const leaks = num(j.leaks) ?? 0;
  const checkErrors = num(j['check-errors']) ?? 0;
  return { ok: code === 0 && corruptions === 0 && leaks === 0 && checkErrors === 0, corruptions, leaks, checkErrors, supported: true, raw: j };
}

/** Rewrite a raw qemu-img failure into what the user needs to know about `file`. */
export function explain(err: VireoError, file: string, format: string | undefined): VireoError {
  if (err.code !== 'TOOL_FAILED') return err;
  const d = (err.details ?? {}) as { stderr?: string; argv?: string[]; exitCode?: number };
  const stderr = d.stderr ?? '';
  const reason = (tail(stderr, 1) || err.message).replace(/^qemu-img: /, '').trim();
  if ((err.details as { errno?: string } | undefined)?.errno === 'ENOENT') {
    return new VireoError('TOOL_FAILED', `${d.argv?.[0] ?? 'qemu-img'} was not found: install qemu-utils (qemu-img) or set the QEMU path in Settings`, d);
  }
  if (/Failed to get (shared )?"(write|consistent read)" lock/.test(stderr)) {
    return new VireoError('IN_USE', `${file} is in use by a running VM (QEMU holds its lock): stop that VM first`, { ...d, path: file });
  }
  if (/No such file or directory/.test(stderr) && /backing/i.test(stderr)) {
    return new VireoError('NOT_FOUND', `the backing file of ${file} is missing: ${reason}; restore it or rebase the disk`, { ...d, path: file });
  }
  if (/Could not open|Image is not in|not in .* format|Unsupported|[Cc]orrupt|Invalid|bad magic|too large/.test(stderr)) {
    const kind = format ?? 'disk';
    return new VireoError('TOOL_FAILED', `${file} is not a valid ${kind} image: ${reason}; ${CHECK_HINT}`, { ...d, path: file });
  }
  return new VireoError('TOOL_FAILED', `${err.message}; ${CHECK_HINT}`, { ...d, path: file });
}
