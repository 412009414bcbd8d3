import { stat, readFile } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import { ARCH_INFO, DEFAULT_ARCH, type GuestArch } from '../arch.ts';
import { run } from '../util/proc.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';

// What a QEMU binary can do, asked from the binary itself. Asking takes a few QEMU launches
// (~0.1 s each), so the answer is cached per binary identity (path + mtime + size): an upgrade
// in place changes mtime/size and triggers a new probe.

export interface QemuCaps {
  binary: string;
  /** "7.2.22" */
  version: string;
  versionParts: [number, number, number];
  /** `-machine help`: names and aliases ("pc", "q35", "pc-q35-7.2", ...) */
  machines: string[];
  /** `-device help`: device names */
  devices: string[];
  /** `-accel help`: accelerators compiled in (not whether they work here) */
  accels: string[];
  /** `-cpu help`: CPU model names; absent when the binary would not list them */
  cpuModels?: string[];
  /** `-chardev help`: chardev backends (qemu-vdagent is a chardev, not a device) */
  chardevs?: string[];
  /** `-audiodev help`: host audio drivers this build has (modules included only when installed) */
  audiodevs?: string[];
}

/** Identity of a binary on disk; a different identity means "probe again". */
export interface BinaryStamp {
  path: string;
  mtimeMs: number;
  size: number;
}

export async function stampBinary(binary: string): Promise<BinaryStamp> {
  try {
    const st = await stat(binary);
    return { path: binary, mtimeMs: st.mtimeMs, size: st.size };
  } catch (e) {
    throw new VireoError(
      'QEMU_NOT_FOUND',
      `cannot read the QEMU binary ${binary}: ${(e as Error).message}; check the QEMU path in Settings`,
      { binary },
    );
  }
}

export const sameStamp = (a: BinaryStamp, b: BinaryStamp) =>
  a.path === b.path && a.mtimeMs === b.mtimeMs && a.size === b.size;

// ---- parsers (pure) -------------------------------------------------------------------------

export function parseVersion(text: string): { version: string; versionParts: [number, number, number] } {
  const m = /version\s+(\d+)\.(\d+)(?:\.(\d+))?/i.exec(text);
  if (!m) throw new VireoError('QEMU_FAILED', `could not read a version from QEMU's -version output: ${JSON.stringify(text.slice(0, 200))}`, { output: text.slice(0, 500) });
  const parts: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return { version: parts.join('.'), versionParts: parts };
}

/** Lines after a header line, first word of each; QEMU indents nothing in these lists. */
export function parseMachines(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (/^Supported machines/i.test(line)) continue;
    const name = /^(\S+)\s/.exec(line + ' ')?.[1];
    if (name) out.push(name);
  }
  return out;
}

export function parseDevices(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^name "([^"]+)"/gm)) out.push(m[1]!);
  return out;
}

export function parseAccels(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/:$/.test(l) && /^[a-z0-9_-]+$/i.test(l));
}

/**
 * `-cpu help` lists "<arch> <model> <desc>" lines ("x86 qemu64 ..."), then, on x86, a CPUID
 * flag section that is not models. The prefix comes from the arch table (arch.ts).
 */
export function parseCpuModels(text: string, prefix = ARCH_INFO[DEFAULT_ARCH].cpuHelpPrefix): string[] {
  const modelLine = new RegExp(`^${prefix.replace(/[^A-Za-z0-9_]/g, '')}\\s+(\\S+)`);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (/^Recognized CPUID flags/i.test(line)) break;
    const m = modelLine.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

export function parseChardevs(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => /^[a-z0-9_-]+$/i.test(l));
}

/** "Available audio drivers:" then one name a line; module warnings go to stderr. */
export function parseAudiodevs(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[a-z0-9_-]+$/i.test(l));
}

// ---- probe + cache --------------------------------------------------------------------------

interface CacheEntry {
  stamp: BinaryStamp;
  caps: QemuCaps;
}
interface CacheFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

const memory = new Map<string, CacheEntry>();

const PROBE_TIMEOUT_MS = 20_000;

async function ask(binary: string, args: string[]): Promise<string> {
  const r = await run(binary, args, {
    timeoutMs: PROBE_TIMEOUT_MS,
    errorCode: 'QEMU_FAILED',
    hint: `${binary} could not list its capabilities; check that it is a working QEMU system emulator`,
  });
  return r.stdout;
}

async function readCache(file: string): Promise<CacheFile | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    return parsed && parsed.version === 1 && typeof parsed.entries === 'object' ? parsed : null;
  } catch {
    // Missing or corrupt cache: probing again is the cure.
    return null;
  }
}

export async function probeCapabilities(
  binary: string,
  opts: { cacheFile?: string; force?: boolean; arch?: GuestArch } = {},
): Promise<QemuCaps> {
  const arch = ARCH_INFO[opts.arch ?? DEFAULT_ARCH];
  const stamp = await stampBinary(binary);
  if (!opts.force) {
    const hit = memory.get(binary);
    if (hit && sameStamp(hit.stamp, stamp)) return hit.caps;
    if (opts.cacheFile) {
      const disk = await readCache(opts.cacheFile);
      const entry = disk?.entries[binary];
      if (entry && entry.stamp && sameStamp(entry.stamp, stamp) && entry.caps?.binary === binary) {
        memory.set(binary, entry);
        return entry.caps;
      }
    }
  }

  const [versionOut, machineOut, deviceOut, accelOut, cpuOut, chardevOut, audioOut] = await Promise.all([
    ask(binary, ['-version']),
    ask(binary, ['-machine', 'help']),
    ask(binary, ['-device', 'help']),
    ask(binary, ['-accel', 'help']),
    // Optional lists: a build that cannot answer still has a usable core.
    ask(binary, ['-cpu', 'help']).catch(() => null),
    // -machine none: qemu-system-aarch64 has no default machine and refuses to list chardevs without one.
    ask(binary, ['-machine', 'none', '-chardev', 'help']).catch(() => null),
    ask(binary, ['-machine', 'none', '-audiodev', 'help']).catch(() => null),
  ]);
  const caps: QemuCaps = {
    binary,
    ...parseVersion(versionOut),
    machines: parseMachines(machineOut),
    devices: parseDevices(deviceOut),
    accels: parseAccels(accelOut),
  };
  if (cpuOut !== null) caps.cpuModels = parseCpuModels(cpuOut, arch.cpuHelpPrefix);
  if (chardevOut !== null) caps.chardevs = parseChardevs(chardevOut);
  if (audioOut !== null) caps.audiodevs = parseAudiodevs(audioOut);

  const entry: CacheEntry = { stamp, caps };
  memory.set(binary, entry);
  if (opts.cacheFile) {
    const disk = (await readCache(opts.cacheFile)) ?? { version: 1, entries: {} };
    disk.entries[binary] = entry;
    // Best effort: a cache that cannot be written (a full disk) must not cost the answer.
    await writeJsonAtomic(opts.cacheFile, disk).catch(() => {});
  }
  return caps;
}

/** Test hook and "QEMU changed under us" escape hatch. */
export function clearCapabilitiesMemoryCache(): void {
  memory.clear();
}
