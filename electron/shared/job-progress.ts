// A job's rate and time left from its progress over time, and how the jobs panel says them.
// Dependency-free (the renderer bundles it as it is): the engine keeps a ProgressRate per
// running job and puts its estimate on the job; the panel formats what it gets.

export interface ProgressSample {
  /** ms (any clock, only differences matter) */
  at: number;
  /** 0..1 */
  fraction: number;
}

/** Samples older than this (behind the newest) do not count: the recent rate predicts better. */
export const RATE_WINDOW_MS = 20_000;
/** No estimate before this much time of progress: the first samples say little. */
export const MIN_SPAN_MS = 1_000;

/**
 * Seconds left at the recent rate (the fraction gained over the window), or null while there is
 * too little to go on: under MIN_SPAN_MS of samples, no progress within the window, or done.
 */
export function secondsLeft(samples: readonly ProgressSample[]): number | null {
  const last = samples.at(-1);
  if (!last || last.fraction >= 1) return null;
  const first = samples.find((s) => last.at - s.at <= RATE_WINDOW_MS);
  if (!first) return null;
  const span = last.at - first.at;
  const gained = last.fraction - first.fraction;
  if (span < MIN_SPAN_MS || gained <= 0) return null;
  return Math.round(((1 - last.fraction) * span) / gained / 1000);
}

/** The samples of one job, pruned to the window; a fraction going back (a new phase) starts over. */
export class ProgressRate {
  #samples: ProgressSample[] = [];

  add(fraction: number, at: number): void {
    const last = this.#samples.at(-1);
    if (last && fraction < last.fraction) this.#samples = [];
    this.#samples.push({ at, fraction });
    while (this.#samples.length > 2 && at - this.#samples[1]!.at > RATE_WINDOW_MS) this.#samples.shift();
  }

  secondsLeft(): number | null {
    return secondsLeft(this.#samples);
  }
}

/** "about 40 s left", "about 3 min left", "about 1 h 5 min left". */
export function formatTimeLeft(sec: number | null | undefined): string | null {
  if (sec == null || !Number.isFinite(sec) || sec < 0) return null;
  if (sec < 60) return `about ${Math.max(1, Math.round(sec))} s left`;
  const min = Math.round(sec / 60);
  if (min < 60) return `about ${min} min left`;
  return `about ${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''} left`;
}
