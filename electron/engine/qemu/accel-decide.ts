import type { AccelName, AccelCandidate, AccelReport } from '../../api/types.ts';
import type { ProbeRun } from './accel-probe.ts';

// The verdict, as a pure function of the probe runs: a hardware accelerator wins only when its
// work was clearly faster than TCG's.

export type HwAccel = Exclude<AccelName, 'tcg'>;

/** the usual cause, appended to a failure so the reason points somewhere */
export const FAILURE_HINT: Partial<Record<AccelName, string>> = {
  kvm: ' (nested virtualization without acceleration?)',
  whpx: ' (is "Windows Hypervisor Platform" turned on in Windows Features?)',
};

export const ACCEL_LABEL: Record<AccelName, string> = { kvm: 'KVM', hvf: 'HVF', whpx: 'WHPX', tcg: 'TCG' };

/**
 * The decision rule: a hardware accelerator is chosen only if its probe finished and its work
 * took less than half of TCG's. Healthy hardware runs the probe's workload many times faster
 * than TCG (it is built to defeat TCG's software TLB), so a factor of two leaves plenty of room
 * for timer noise while still rejecting an accelerator that merely "works" at emulator speed.
 */
export const HW_MAX_WORK_RATIO = 0.5;
export const UNTESTED = 'not tested: no time left in the self-test budget';

// ---- decision (pure) -----------------------------------------------------------------------

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

export interface Presence {
  accel: HwAccel;
  present: boolean;
  presentReason: string;
}

/** What the probe's LM marker means: x86's long mode; the aarch64 probe's MMU switched on. */
const stageOf = (run: Pick<ProbeRun, 'arch'>) => (run.arch === 'aarch64' ? 'paging (MMU on)' : 'long mode');

/** Why a run did not finish, phrased for a person. */
export function failureText(run: ProbeRun): string {
  if (run.timedOut) {
    const where = run.marks.start !== undefined
      ? "the probe's work did not finish"
      : run.marks.lm !== undefined
        ? 'the probe did not start its work'
        : run.marks.boot !== undefined
          ? `the probe did not reach ${stageOf(run)}`
          : 'the probe did not even start booting';
    return `${where} within ${formatMs(run.deadlineMs)}`;
  }
  return run.error ?? 'the probe failed';
}

export const workOf = (r: ProbeRun) =>
  r.ok && r.marks.start !== undefined && r.marks.end !== undefined ? r.marks.end - r.marks.start : undefined;

/** `passed` is the verdict, not just "the run finished": a finished but slow KVM did not pass. */
function toCandidate(run: ProbeRun, base: { present: boolean; presentReason: string }, passed: boolean, verdict: string): AccelCandidate {
  const c: AccelCandidate = { accel: run.accel, ...base, ok: passed, verdict };
  if (run.marks.lm !== undefined) c.bootMs = Math.round(run.marks.lm);
  const w = workOf(run);
  if (w !== undefined) c.workMs = Math.round(w * 10) / 10;
  if (!run.ok) c.error = failureText(run);
  return c;
}

/**
 * Turns probe runs into the report. `hwRuns` has one entry per present hardware accelerator
 * that was tested; absent ones appear only in `presence`.
 */
export function decideAccel(
  tcg: ProbeRun,
  presence: Presence[],
  hwRuns: ProbeRun[],
  testedAt: string = new Date().toISOString(),
): AccelReport {
  const tcgWork = workOf(tcg);
  const tcgText = tcgWork !== undefined ? `${formatMs(tcgWork)} under TCG` : 'TCG failed too';
  const tcgStory =
    tcgWork !== undefined
      ? `under TCG it reached ${stageOf(tcg)} after ${formatMs(tcg.marks.lm ?? 0)} and its work took ${formatMs(tcgWork)}`
      : 'it failed under TCG too';
  const candidates: AccelCandidate[] = [];

  candidates.push(
    toCandidate(
      tcg,
      { present: true, presentReason: 'TCG (software emulation) is always available' },
      tcg.ok,
      tcg.ok
        ? `works: ${stageOf(tcg)} after ${formatMs(tcg.marks.lm ?? 0)}, work took ${formatMs(tcgWork!)}`
        : `failed: ${failureText(tcg)}`,
    ),
  );

  let best: { accel: HwAccel; work: number } | null = null;
  const problems: string[] = [];
  for (const p of presence) {
    const label = ACCEL_LABEL[p.accel];
    const run = p.present ? hwRuns.find((r) => r.accel === p.accel) : undefined;
    if (!p.present) {
      candidates.push({ accel: p.accel, present: false, presentReason: p.presentReason, ok: false, verdict: `not available: ${p.presentReason}` });
      continue;
    }
    if (!run) {
      candidates.push({ accel: p.accel, present: true, presentReason: p.presentReason, ok: false, verdict: UNTESTED });
      problems.push(`${label} is present but could not be tested in time`);
      continue;
    }
    const work = workOf(run);
    let verdict: string;
    let passed = false;
    if (!run.ok || work === undefined) {
      verdict = `failed: ${failureText(run)} (TCG: ${tcgWork !== undefined ? formatMs(tcgWork) : 'failed'})`;
      problems.push(
        `${label} is present (${p.presentReason}) but failed its self-test: ${failureText(run)} under ${label}, while ${tcgStory}` +
          (FAILURE_HINT[p.accel] ?? ''),
      );
    } else if (tcgWork === undefined) {
      // Nothing to compare with; a hardware run that completed is the best evidence there is.
      verdict = `works: work took ${formatMs(work)} (TCG failed, so no comparison)`;
      passed = true;
      if (!best || work < best.work) best = { accel: p.accel, work };
    } else if (work < HW_MAX_WORK_RATIO * tcgWork) {
      const factor = tcgWork / Math.max(work, 0.1);
      verdict = `works: work took ${formatMs(work)} vs ${formatMs(tcgWork)} under TCG (${factor >= 10 ? Math.round(factor) : factor.toFixed(1)}x faster)`;
      passed = true;
      if (!best || work < best.work) best = { accel: p.accel, work };
    } else {
      verdict = `too slow: work took ${formatMs(work)} vs ${formatMs(tcgWork)} under TCG`;
      problems.push(
        `${label} is present (${p.presentReason}) but failed its self-test: the probe's work took ${formatMs(work)} under ${label} vs ${tcgText}` +
          (FAILURE_HINT[p.accel] ?? ''),
      );
    }
    candidates.push(toCandidate(run, { present: true, presentReason: p.presentReason }, passed, verdict));
  }

  let chosen: AccelName;
  let reason: string;
  if (best) {
    chosen = best.accel;
    const c = candidates.find((x) => x.accel === best.accel)!;
    reason = `${ACCEL_LABEL[best.accel]} passed its self-test (${c.verdict.replace(/^works: /, '')}); using ${ACCEL_LABEL[best.accel]}`;
  } else {
    chosen = 'tcg';
    if (problems.length > 0) reason = `${problems.join('; ')}; using TCG`;
    else {
      const absent = presence.map((p) => `${ACCEL_LABEL[p.accel]}: ${p.presentReason}`).join('; ');
      reason = `no hardware accelerator is available${absent ? ` (${absent})` : ''}; using TCG`;
    }
    if (!tcg.ok) reason += ` (warning: the probe also failed under TCG: ${failureText(tcg)})`;
  }
  return { chosen, reason, testedAt, candidates, cached: false };
}

