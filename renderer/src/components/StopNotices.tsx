import { useEffect, useState } from 'react';
import { Button } from './ui.tsx';

// Notices the toolbar keeps after an action: a shutdown waiting on the guest (with the time
// left before Vireo forces it, and a way to force it now), and where kept disks went.

export interface PendingShutdown {
  vmId: string;
  name: string;
  /** epoch ms when the engine stops waiting for the guest and forces the VM off */
  deadline: number;
}

/** Whole seconds left until `deadline`, updated every second; 0 once it has passed. */
export function useSecondsLeft(deadline: number, now: () => number = Date.now): number {
  const [secs, setSecs] = useState(() => secondsLeft(deadline, now()));
  useEffect(() => {
    const tick = () => setSecs(secondsLeft(deadline, now()));
    tick();
    // A quarter second, so the shown number never lags the engine's clock by a whole second.
    const t = setInterval(tick, 250);
    return () => clearInterval(t);
  }, [deadline, now]);
  return secs;
}

export const secondsLeft = (deadline: number, now: number) => Math.max(0, Math.ceil((deadline - now) / 1000));

export function ShutdownNotice({ pending, forcing, onPowerOff }: { pending: PendingShutdown; forcing: boolean; onPowerOff: () => void }) {
  const secs = useSecondsLeft(pending.deadline);
  return (
    <div role="status" aria-label={`Shutting down ${pending.name}`} className="flex flex-wrap items-center gap-3 border-b border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
      <p className="min-w-0 flex-1">
        {forcing
          ? `Powering off ${pending.name}…`
          : secs > 0
            ? <>Shutting down {pending.name}: waiting for the guest to power off. If it does not, Vireo powers it off in <span data-testid="shutdown-seconds">{secs}</span> s.</>
            : `${pending.name} did not shut down in time: Vireo is powering it off.`}
      </p>
      <Button variant="danger" size="sm" disabledReason={forcing || secs === 0 ? 'Powering off…' : null} onClick={onPowerOff}>
        Power off now
      </Button>
    </div>
  );
}

export function KeptDisksNotice({ name, folder, onDismiss }: { name: string; folder: string; onDismiss: () => void }) {
  return (
    <div role="status" aria-label="Disk images kept" className="flex flex-wrap items-center gap-3 border-b border-sky-300 bg-sky-50 px-4 py-2 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100">
      <p className="min-w-0 flex-1">
        {name} was deleted. Its disk images were kept in <code className="font-mono text-xs break-all" data-testid="kept-folder">{folder}</code>; import them into a new VM from there.
      </p>
      <Button size="sm" onClick={onDismiss}>Dismiss</Button>
    </div>
  );
}
