// Shown while the accelerator self-test runs (several seconds): host.selfTest sends no progress
// events, so this names what is being timed, with a spinner, instead of a silent grey button.

export function SelfTestProgress({ accels }: { accels: readonly string[] }) {
  const names = accels.length ? accels.map((a) => `${a.toUpperCase()}…`).join(' ') : 'the accelerators…';
  return (
    <div role="status" className="mb-2 flex items-center gap-2 text-sm text-zinc-700 dark:text-zinc-300">
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" className="animate-spin motion-reduce:animate-none">
        <circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" strokeOpacity="0.25" strokeWidth="2" />
        <path d="M8 2a6 6 0 0 1 6 6" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
      </svg>
      <span>Timing {names} Each boots a tiny test guest; this takes a few seconds.</span>
    </div>
  );
}
