import { useState, type ReactNode } from 'react';
import type { OvercommitReport } from '../../../electron/api/limits-types.ts';
import type { Args } from '../../../electron/api/contract.ts';
import { useClient } from '../api/context.tsx';
import { asWireError } from '../api/client.ts';
import { Button, Dialog } from './ui.tsx';

// A start the host's memory cannot cover comes back from the engine as OVERCOMMIT with the
// numbers (engine/resources/overcommit.ts); instead of an error banner the person gets the
// numbers and the two ways on: start anyway, or lower the VM's memory to what fits and start.

type StartArgs = Args<'vms.start'>;

/** The memory that fits beside the running VMs, in 64 MiB steps; null when nothing useful does. */
export const fittingMiB = (r: OvercommitReport) => {
  const fit = Math.floor((r.memory.availableMiB - r.memory.runningUnclaimedMiB) / 64) * 64;
  return fit >= 64 && fit < r.memory.thisMiB ? fit : null;
};

export function useOvercommitStart(): { start: (args: StartArgs) => Promise<unknown>; dialog: ReactNode } {
  const client = useClient();
  const [pending, setPending] = useState<{ args: StartArgs; report: OvercommitReport; message: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const start = async (args: StartArgs) => {
    try {
      return await client.call('vms.start', args);
    } catch (e) {
      const w = asWireError(e);
      if (w.code !== 'OVERCOMMIT') throw e;
      setError(null);
      setPending({ args, report: w.details as unknown as OvercommitReport, message: w.message });
      return null;
    }
  };
  const go = async (f: () => Promise<unknown>) => {
    try {
      await f();
      setPending(null);
    } catch (e) {
      setError(asWireError(e).message);
    }
  };

  let dialog: ReactNode = null;
  if (pending) {
    const m = pending.report.memory;
    const fit = fittingMiB(pending.report);
    dialog = (
      <Dialog
        title="Not enough free memory on this host"
        onClose={() => setPending(null)}
        footer={
          <>
            <Button onClick={() => setPending(null)}>Cancel</Button>
            {fit !== null && (
              <Button onClick={() => go(async () => (await client.call('vms.update', { vm: pending.args.vm, patch: { system: { memoryMiB: fit } } }), client.call('vms.start', pending.args)))}>
                Lower memory to {fit} MiB and start
              </Button>
            )}
            <Button variant="danger" onClick={() => go(() => client.call('vms.start', { ...pending.args, overcommit: true }))}>Start anyway</Button>
          </>
        }
      >
        <div className="flex flex-col gap-2 text-sm" aria-label="Overcommit warning">
          <p>{pending.message.replace(/ \(to start anyway:.*\)$/, '')}</p>
          <dl className="grid grid-cols-2 gap-x-4 text-xs">
            <dt>This VM</dt><dd>{m.thisMiB} MiB</dd>
            <dt>Running VMs may still claim</dt><dd>{m.runningUnclaimedMiB} MiB (of {m.runningMiB} MiB)</dd>
            <dt>Host available</dt><dd>{m.availableMiB} MiB of {m.totalMiB} MiB</dd>
          </dl>
          {pending.report.warnings.slice(1).map((w) => <p key={w} className="text-xs">{w}</p>)}
          {error && <p role="alert" className="text-xs text-red-700 dark:text-red-400">{error}</p>}
        </div>
      </Dialog>
    );
  }
  return { start, dialog };
}
