import { useEffect, useState } from 'react';
import type { HostInfo } from '../../../../electron/api/types.ts';
import { proposeV86, V86_TRADE_OFF } from '../../../../electron/shared/v86-rules.ts';
import { useClient } from '../../api/context.tsx';
import type { Wizard } from './useWizard.ts';

// The wizard's proposal of the wasm/v86 backend (issue 20) for legacy OSes (DOS, Windows 9x,
// old Linux) and when no QEMU is installed, with its trade-off. The wizard itself still makes
// QEMU VMs: turning a new VM into a v86 one is a settings change (backend, IDE, raw disk).

export function BackendProposal({ w }: { w: Wizard }) {
  const client = useClient();
  const [qemu, setQemu] = useState<HostInfo['qemu'] | null>(null);
  useEffect(() => {
    let alive = true;
    client.call('host.info', {}).then((h) => alive && setQemu(h.qemu), () => {});
    return () => {
      alive = false;
    };
  }, [client]);
  const os = w.state.os;
  // Until host.info answers (its first call probes QEMU, slow on a busy host) only the OS speaks.
  const p = proposeV86(os ? { id: os.id, name: os.name, family: os.family, releaseDate: os.releaseDate } : null, qemu ?? { found: true });
  if (!p.propose) return null;
  return (
    <section aria-label="Backend proposal" data-testid="backend-proposal" className="rounded-md border border-sky-300 bg-sky-50 p-3 text-sm dark:border-sky-800 dark:bg-sky-950">
      <p className="font-medium">Proposed: run it in this window with the wasm/v86 backend</p>
      <p className="mt-1">Because {p.why}.</p>
      <p className="mt-1 text-zinc-700 dark:text-zinc-300">The trade-off: it {V86_TRADE_OFF}.</p>
      <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
        Not yet from this wizard: it creates a QEMU VM; make it a v86 one afterwards (settings: backend wasm/v86, machine pc, one CPU, IDE raw disk), or with vireo and the API.
      </p>
    </section>
  );
}
