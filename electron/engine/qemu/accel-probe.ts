import { performance } from 'node:perf_hooks';
import type { AccelName } from '../../api/types.ts';
import { tail, runSettled } from '../util/proc.ts';
import { qemuOptEscape } from './argv/escape.ts';
import { DEFAULT_ARCH, type GuestArch } from '../arch.ts';

// One run of the accelerator probe guest (resources/probe/probe.img): QEMU boots it under one
// accelerator and its serial markers, timed as they arrive, say how far and how fast it got.

/** isa-debug-exit turns the probe's write of 0x2a into exit status (0x2a << 1) | 1 */
export const PROBE_EXIT_CODE = 85;
/** How a finished probe ends QEMU: x86 through isa-debug-exit, aarch64 through PSCI SYSTEM_OFF (status 0). */
export const PROBE_EXIT_CODES: Record<GuestArch, number> = { x86_64: PROBE_EXIT_CODE, aarch64: 0 };

export const MARKERS = {
  boot: 'VIREO-PROBE-BOOT',
  lm: 'VIREO-PROBE-LM',
  start: 'VIREO-PROBE-WORK-START',
  end: 'VIREO-PROBE-WORK-END',
} as const;
type MarkerKey = keyof typeof MARKERS;

// ---- one probe run -------------------------------------------------------------------------

export interface ProbeRun {
  accel: AccelName;
  /** the probe guest's architecture (x86_64 when absent) */
  arch?: GuestArch;
  /** reached WORK-END and QEMU exited through isa-debug-exit */
  ok: boolean;
  /** milliseconds since spawn at which each marker line arrived */
  marks: Partial<Record<MarkerKey, number>>;
  elapsedMs: number;
  timedOut: boolean;
  deadlineMs: number;
  exitCode: number | null;
  stderr: string;
  error?: string;
}

export function probeArgv(accel: AccelName, probeImage: string, arch: GuestArch = DEFAULT_ARCH): string[] {
  if (arch === 'aarch64') {
    // resources/probe-aarch64/probe.elf: loaded by -kernel and entered at EL1; the PL011 is stdio.
    return [
      '-nodefaults',
      '-no-user-config',
      '-display', 'none',
      '-machine', 'virt',
      '-accel', accel,
      '-cpu', accel === 'tcg' ? 'max' : 'host',
      '-m', '64M',
      '-kernel', probeImage,
      '-serial', 'stdio',
      '-no-reboot',
    ];
  }
  return [
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-machine', 'pc',
    '-accel', accel,
    '-m', '32M',
    '-drive', `file=${qemuOptEscape(probeImage)},format=raw,if=floppy,readonly=on`,
    '-boot', 'order=a',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-serial', 'stdio',
    '-no-reboot',
  ];
}

/** Feeds serial output in arbitrary chunks; records when each marker line completes. */
export class MarkerReader {
  private buf = '';
  readonly marks: Partial<Record<MarkerKey, number>> = {};
  feed(chunk: string, atMs: number): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '').trim();
      this.buf = this.buf.slice(nl + 1);
      for (const key of Object.keys(MARKERS) as MarkerKey[]) {
        if (line === MARKERS[key] && this.marks[key] === undefined) this.marks[key] = atMs;
      }
    }
    // SeaBIOS may print without newlines; never let junk grow without bound.
    if (this.buf.length > 4096) this.buf = this.buf.slice(-256);
  }
}

export async function runProbe(binary: string, probeImage: string, accel: AccelName, deadlineMs: number, arch: GuestArch = DEFAULT_ARCH): Promise<ProbeRun> {
  const t0 = performance.now();
  const reader = new MarkerReader();
  const r = await runSettled(binary, probeArgv(accel, probeImage, arch), {
    timeoutMs: deadlineMs,
    dieWithParent: true,
    encoding: 'latin1',
    maxOutputBytes: 16_384,
    onStdout: (s) => reader.feed(s, performance.now() - t0),
  });
  const marks = reader.marks;
  const stderr = tail(r.stderr, 10);
  const ok = !r.timedOut && marks.end !== undefined && r.code === PROBE_EXIT_CODES[arch];
  let error: string | undefined;
  if (r.spawnError) error = `could not start ${binary}: ${r.spawnError.message}`;
  else if (!ok && !r.timedOut) {
    const firstErr = stderr.split('\n').find((l) => /error|fail|could not|cannot/i.test(l)) ?? stderr.split('\n').pop();
    error = `QEMU exited with code ${r.code ?? 'none'} before the probe finished${firstErr ? `: ${firstErr.trim()}` : ''}`;
  }
  return {
    accel,
    ...(arch !== DEFAULT_ARCH ? { arch } : {}),
    ok,
    marks,
    elapsedMs: performance.now() - t0,
    timedOut: r.timedOut,
    deadlineMs,
    exitCode: r.code,
    stderr,
    ...(error ? { error } : {}),
  };
}

