import { createHash } from 'node:crypto';
import { open, readFile, access, constants } from 'node:fs/promises';
import { release, uptime } from 'node:os';
import { performance } from 'node:perf_hooks';
import { VireoError } from '../../api/errors.ts';
import type { AccelName, AccelReport } from '../../api/types.ts';
import { runProbe, type ProbeRun } from './accel-probe.ts';
import { ACCEL_LABEL, UNTESTED, decideAccel, failureText, formatMs, workOf, type HwAccel, type Presence } from './accel-decide.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import { probeCapabilities, stampBinary, type QemuCaps, type BinaryStamp } from './capabilities.ts';
import { ARCH_INFO, DEFAULT_ARCH, nativeGuestArch, type GuestArch } from '../arch.ts';

// Which accelerator to trust. "/dev/kvm opens" proves nothing: under nested virtualization
// without hardware support KVM runs guests ~1000x slower than TCG and Linux guests seem to hang.
// So the engine boots a tiny probe guest (resources/probe/probe.img) under TCG and under each
// present hardware accelerator, times real work from serial markers, and picks the hardware one
// only when it is clearly faster. The verdict is cached until the QEMU binary, the kernel or
// the boot changes.

// The report's shape is part of the API contract (host.info, host.selfTest).
export type { AccelName, AccelCandidate, AccelReport } from '../../api/types.ts';
export { ACCEL_LABEL, HW_MAX_WORK_RATIO, decideAccel, formatMs, type HwAccel, type Presence } from './accel-decide.ts';
export { MARKERS, MarkerReader, PROBE_EXIT_CODE, PROBE_EXIT_CODES, probeArgv, runProbe, type ProbeRun } from './accel-probe.ts';

export interface AccelProgress {
  accel: AccelName;
  phase: 'presence' | 'start' | 'done';
  message: string;
}

export interface SelfTestOptions {
  binary: string;
  probeImage: string;
  cacheFile?: string;
  platform?: NodeJS.Platform;
  /** total budget for a fresh verdict, 10 s by default */
  deadlineMs?: number;
  force?: boolean;
  onProgress?: (p: AccelProgress) => void;
  /** capabilities already probed for this binary (saves the probe launches) */
  caps?: QemuCaps;
  /** where KVM lives; a parameter so tests can point at a missing node */
  kvmDevice?: string;
  /** the guest architecture the binary and probe image are for (x86_64 by default) */
  arch?: GuestArch;
  /** the host's CPU architecture as Node names it (process.arch by default) */
  hostArch?: string;
}

const DEFAULT_BUDGET_MS = 10_000;
/** a hardware accelerator always gets at least this long, even when TCG was very quick */
const HW_MIN_DEADLINE_MS = 3_000;
/**
 * ...or this many times TCG's whole run, when that is longer. A healthy accelerator's run is
 * QEMU start-up plus firmware plus a few ms of work, never more than TCG's, so 5x is generous;
 * a broken one is killed at the deadline, and waiting longer would only delay the verdict.
 */
const HW_TCG_FACTOR = 5;
/** kept back from the budget for killing QEMU and writing the cache */
const BUDGET_MARGIN_MS = 300;


// ---- presence --------------------------------------------------------------------------------

export function hwAccelsFor(platform: NodeJS.Platform): HwAccel[] {
  if (platform === 'linux') return ['kvm'];
  if (platform === 'darwin') return ['hvf'];
  if (platform === 'win32') return ['whpx'];
  return [];
}

/**
 * Why no hardware accelerator can run guests of this arch here, or null when the host's own
 * architecture is the guest's. KVM, HVF and WHPX virtualize only the host's instruction set.
 */
export function foreignArchReason(guest: GuestArch, hostArch: string): string | null {
  const native = nativeGuestArch(hostArch);
  if (native === guest) return null;
  const host = native ?? hostArch;
  const slow = guest === 'x86_64'
    ? `; ${guest} guests on this ${hostArch} host are emulated instruction by instruction, many times slower than native (fine for installers and light work; Windows and desktops will feel very slow)`
    : '';
  return `this host's CPU is ${host}: hardware accelerators run only ${host} guests, so ${guest} guests are emulated with TCG${slow}`;
}

export async function detectPresence(accel: HwAccel, caps: QemuCaps, platform: NodeJS.Platform, kvmDevice = '/dev/kvm', foreign: string | null = null): Promise<Presence> {
  const compiled = caps.accels.includes(accel);
  const no = (presentReason: string): Presence => ({ accel, present: false, presentReason });
  if (foreign) return no(foreign);
  if (accel === 'kvm') {
    if (platform !== 'linux') return no('KVM exists only on Linux');
    if (!compiled) return no(`this QEMU (${caps.binary}) was built without KVM`);
    try {
      await access(kvmDevice, constants.F_OK);
    } catch {
      return no(`${kvmDevice} does not exist (KVM module not loaded, or virtualization disabled in the firmware)`);
    }
    try {
      const fh = await open(kvmDevice, 'r+');
      await fh.close();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      return no(`${kvmDevice} exists but cannot be opened read-write (${code}): add your user to the "kvm" group and log in again`);
    }
    return { accel, present: true, presentReason: kvmDevice };
  }
  if (accel === 'hvf') {
    if (platform !== 'darwin') return no('HVF exists only on macOS');
    if (!compiled) return no(`this QEMU (${caps.binary}) was built without HVF`);
    return { accel, present: true, presentReason: 'macOS Hypervisor.framework' };
  }
  if (platform !== 'win32') return no('WHPX exists only on Windows');
  if (!compiled) return no(`this QEMU (${caps.binary}) was built without WHPX`);
  return { accel, present: true, presentReason: 'Windows Hypervisor Platform' };
}

// ---- cache -----------------------------------------------------------------------------------

export interface AccelCacheKey {
  stamp: BinaryStamp;
  qemuVersion: string;
  kernel: string;
  bootId: string;
  probeSha256: string;
}

/** Something that changes on every boot of the host, so a verdict does not survive a reboot. */
export async function hostBootId(platform: NodeJS.Platform): Promise<string> {
  if (platform === 'linux') {
    try {
      return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    } catch {
      // fall through: containers may hide /proc/sys
    }
  }
  // Boot time to the minute: uptime jitter is well under a second, so this is stable within a
  // boot; a rare flip at a minute boundary costs one extra self-test, nothing more.
  return `boot@${Math.round((Date.now() - uptime() * 1000) / 60_000)}`;
}

export const sameCacheKey = (a: AccelCacheKey, b: AccelCacheKey): boolean =>
  a.stamp.path === b.stamp.path &&
  a.stamp.mtimeMs === b.stamp.mtimeMs &&
  a.stamp.size === b.stamp.size &&
  a.qemuVersion === b.qemuVersion &&
  a.kernel === b.kernel &&
  a.bootId === b.bootId &&
  a.probeSha256 === b.probeSha256;

interface AccelCacheFile {
  version: 1;
  entries: Record<string, { key: AccelCacheKey; report: AccelReport }>;
}

async function readAccelCache(file: string): Promise<AccelCacheFile | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as AccelCacheFile;
    return parsed && parsed.version === 1 && typeof parsed.entries === 'object' ? parsed : null;
  } catch {
    return null;
  }
}

const memory = new Map<string, { key: AccelCacheKey; report: AccelReport }>();
const inFlight = new Map<string, Promise<AccelReport>>();

/** Forget in-memory verdicts (tests; or after the user changes something the key cannot see). */
export function clearAccelMemoryCache(): void {
  memory.clear();
}

// ---- the self-test ---------------------------------------------------------------------------

export async function selfTestAccelerators(opts: SelfTestOptions): Promise<AccelReport> {
  const started = performance.now();
  const platform = opts.platform ?? process.platform;
  const caps = opts.caps ?? (await probeCapabilities(opts.binary));
  let image: Buffer;
  try {
    image = await readFile(opts.probeImage);
  } catch (e) {
    throw new VireoError('NOT_FOUND', `the accelerator probe image ${opts.probeImage} cannot be read: ${(e as Error).message}; reinstall Vireo or rebuild it with resources/${ARCH_INFO[opts.arch ?? DEFAULT_ARCH].probeImage.replace(/\/[^/]*$/, '')}/build.sh`, { probeImage: opts.probeImage });
  }
  const key: AccelCacheKey = {
    stamp: await stampBinary(opts.binary),
    qemuVersion: caps.version,
    kernel: release(),
    bootId: await hostBootId(platform),
    probeSha256: createHash('sha256').update(image).digest('hex'),
  };

  if (!opts.force) {
    const hit = memory.get(opts.binary);
    if (hit && sameCacheKey(hit.key, key)) return { ...hit.report, cached: true };
    if (opts.cacheFile) {
      const entry = (await readAccelCache(opts.cacheFile))?.entries[opts.binary];
      if (entry?.key && entry.report && sameCacheKey(entry.key, key)) {
        memory.set(opts.binary, entry);
        return { ...entry.report, cached: true };
      }
    }
  }

  // Two callers asking at once (app start + CLI) share one self-test instead of racing.
  const pending = inFlight.get(opts.binary);
  if (pending) return pending;
  const job = (async () => {
    const report = await testNow(opts, caps, platform, started);
    // A verdict reached without a full comparison (TCG failed, or a present accelerator ran out
    // of time, e.g. on a loaded machine) would otherwise stick until the next reboot.
    const complete = report.candidates.every((c) => c.accel === 'tcg' ? c.ok : !c.present || c.verdict !== UNTESTED);
    if (!complete) return report;
    const entry = { key, report };
    memory.set(opts.binary, entry);
    if (opts.cacheFile) {
      const disk = (await readAccelCache(opts.cacheFile)) ?? { version: 1, entries: {} };
      disk.entries[opts.binary] = entry;
      await writeJsonAtomic(opts.cacheFile, disk);
    }
    return report;
  })();
  inFlight.set(opts.binary, job);
  try {
    return await job;
  } finally {
    inFlight.delete(opts.binary);
  }
}

async function testNow(opts: SelfTestOptions, caps: QemuCaps, platform: NodeJS.Platform, started: number): Promise<AccelReport> {
  const budget = opts.deadlineMs ?? DEFAULT_BUDGET_MS;
  const left = () => budget - (performance.now() - started) - BUDGET_MARGIN_MS;
  const progress = (p: AccelProgress) => opts.onProgress?.(p);

  const presence: Presence[] = [];
  const arch = opts.arch ?? DEFAULT_ARCH;
  const foreign = foreignArchReason(arch, opts.hostArch ?? process.arch);
  for (const accel of hwAccelsFor(platform)) {
    const p = await detectPresence(accel, caps, platform, opts.kvmDevice, foreign);
    progress({ accel, phase: 'presence', message: p.present ? `${ACCEL_LABEL[accel]} present: ${p.presentReason}` : `${ACCEL_LABEL[accel]} not available: ${p.presentReason}` });
    presence.push(p);
  }
  const anyHw = presence.some((p) => p.present);

  // TCG first: it is quick everywhere and sets the yardstick (and the hardware deadline).
  progress({ accel: 'tcg', phase: 'start', message: 'timing the probe under TCG' });
  const tcgDeadline = anyHw ? Math.max(1_000, left() - HW_MIN_DEADLINE_MS) : Math.max(1_000, left());
  const tcg = await runProbe(opts.binary, opts.probeImage, 'tcg', tcgDeadline, arch);
  progress({ accel: 'tcg', phase: 'done', message: tcg.ok ? `TCG: work took ${formatMs(workOf(tcg)!)}` : `TCG: ${failureText(tcg)}` });

  const hwRuns: ProbeRun[] = [];
  for (const p of presence) {
    if (!p.present) continue;
    const remaining = left();
    if (remaining < 500) continue;
    const fair = Math.max(HW_MIN_DEADLINE_MS, HW_TCG_FACTOR * tcg.elapsedMs);
    const deadline = Math.min(remaining, fair);
    progress({ accel: p.accel, phase: 'start', message: `timing the probe under ${ACCEL_LABEL[p.accel]} (up to ${formatMs(deadline)})` });
    const r = await runProbe(opts.binary, opts.probeImage, p.accel, deadline, arch);
    progress({ accel: p.accel, phase: 'done', message: r.ok ? `${ACCEL_LABEL[p.accel]}: work took ${formatMs(workOf(r)!)}` : `${ACCEL_LABEL[p.accel]}: ${failureText(r)}` });
    // A failure within less than its fair deadline (the budget ran short) is no verdict on
    // the accelerator: leave it untested so the result is not cached.
    if (r.ok || deadline >= fair) hwRuns.push(r);
  }
  return decideAccel(tcg, presence, hwRuns);
}

// ---- per-VM choice -----------------------------------------------------------------------------

export interface ResolvedAccel {
  accel: AccelName;
  reason: string;
  /** set when the choice is allowed but likely to hurt (an explicit accelerator that failed) */
  warning?: string;
}

export function resolveAccel(requested: 'auto' | AccelName, report: AccelReport): ResolvedAccel {
  if (requested === 'auto') return { accel: report.chosen, reason: report.reason };
  if (requested === 'tcg') return { accel: 'tcg', reason: 'TCG was chosen in this VM\'s settings' };
  const label = ACCEL_LABEL[requested];
  const c = report.candidates.find((x) => x.accel === requested);
  if (!c || !c.present) {
    const why = c?.presentReason ?? `${label} is not an accelerator for this host`;
    throw new VireoError(
      'UNSUPPORTED',
      `${label} was chosen in this VM's settings but is not available here: ${why}; set the accelerator to "auto" or "tcg"`,
      { requested, presentReason: why, chosen: report.chosen },
    );
  }
  if (report.chosen === requested) return { accel: requested, reason: `${label} was chosen in this VM's settings and passed its self-test` };
  // The user may know better (a flaky timing, a host that recovers), so this is allowed.
  const warning = `${label} failed its self-test (${c.verdict}); the VM may run very slowly or seem to hang`;
  return { accel: requested, reason: `${label} was chosen in this VM's settings; warning: ${warning}`, warning };
}
