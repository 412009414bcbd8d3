import { useEffect, useState } from 'react';
import type { ApiClient } from '../../../electron/api/contract.ts';
import type { BootProblem } from '../../../electron/api/types.ts';
import { btn } from './styles.ts';

// Above the screen while the firmware shows it found nothing to start (the UEFI shell, or
// "No bootable device"): what happened, why, and the other firmware in one click (power off,
// change the setting, start again). The engine reads what the firmware really printed.

const POLL_MS = 3000;

export function BootProblemBanner({ client, vmId, running }: { client: ApiClient; vmId: string; running: boolean }) {
  const [problem, setProblem] = useState<BootProblem | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    setProblem(null);
    if (!running) return;
    let stop = false;
    const tick = () =>
      client.call('vms.bootProblem', { vm: vmId }).then(
        (p) => !stop && setProblem(p),
        () => undefined,
      );
    void tick();
    const t = setInterval(tick, POLL_MS);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [client, vmId, running]);

  if (!problem) return null;
  const fix = problem.fix;
  const apply = async () => {
    if (!fix) return;
    setBusy('Switching the firmware…');
    try {
      await client.call('vms.stop', { vm: vmId, force: true });
      await client.call('vms.update', { vm: vmId, patch: { system: { firmware: fix.firmware, ...(fix.firmware === 'bios' ? { secureBoot: false } : {}) } } });
      await client.call('vms.start', { vm: vmId });
      setProblem(null);
      setBusy(null);
    } catch (e) {
      setBusy(`The firmware was not switched: ${(e as Error).message}`);
    }
  };
  return (
    <div role="alert" data-testid="boot-problem" className="flex flex-wrap items-center gap-3 border-b border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
      <p className="min-w-0 flex-1">{problem.message}</p>
      {fix && (
        <button type="button" className={btn} disabled={busy === 'Switching the firmware…'} onClick={() => void apply()}>
          {fix.label}
        </button>
      )}
      {busy && <p className="w-full text-xs">{busy}</p>}
    </div>
  );
}
