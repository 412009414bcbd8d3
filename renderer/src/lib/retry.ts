// A read the view cannot do without (the wizard's OS list), asked again until it answers: a
// call lost to a dropped connection or an engine busy starting would otherwise leave the view
// empty for good. Waits double from `firstDelayMs` up to `maxDelayMs`; `stop()` ends it.

export function retryUntilAnswered<T>(
  ask: () => Promise<T>,
  onAnswer: (value: T) => void,
  opts: { firstDelayMs?: number; maxDelayMs?: number; onFailure?: (error: unknown, attempt: number) => void } = {},
): { stop(): void } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const max = opts.maxDelayMs ?? 5000;
  const attempt = (n: number, delay: number) => {
    ask().then(
      (v) => {
        if (!stopped) onAnswer(v);
      },
      (e: unknown) => {
        if (stopped) return;
        opts.onFailure?.(e, n);
        timer = setTimeout(() => attempt(n + 1, Math.min(delay * 2, max)), delay);
      },
    );
  };
  attempt(1, opts.firstDelayMs ?? 500);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
