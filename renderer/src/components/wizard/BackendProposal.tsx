import { useEffect, useState } from 'react';
import type { HostInfo } from '../../../../electron/api/types.ts';
import { proposeV86, V86_TRADE_OFF } from '../../../../electron/shared/v86-rules.ts';
import { useClient } from '../../api/context.tsx';
import { Check } from '../ui.tsx';
import type { Wizard } from './useWizard.ts';

// The wizard's proposal of the wasm/v86 backend (issue 20) for legacy OSes (DOS, Windows 9x,
// old Linux) and when no QEMU is installed, with its trade-off. Taking it makes the wizard
// create a v86 VM (one CPU, BIOS, an IDE raw disk: lib/wizard-v86.ts), which then runs in the
// window from its Screen tab.

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
  const taken = w.state.form.backend === 'wasm/v86';
  // once taken it stays visible, so it can be left again after another OS was chosen
  if (!p.propose && !taken) return null;
  return (
    <section aria-label="Backend proposal" data-testid="backend-proposal" className="rounded-md border border-sky-300 bg-sky-50 p-3 text-sm dark:border-sky-800 dark:bg-sky-950">
      <p className="font-medium">{p.propose ? 'Proposed: run it in this window with the wasm/v86 backend' : 'The wasm/v86 backend runs it in this window'}</p>
      {p.why && <p className="mt-1">Because {p.why}.</p>}
      <p className="mt-1 text-zinc-700 dark:text-zinc-300">The trade-off: it {V86_TRADE_OFF}.</p>
      <div className="mt-2">
        <Check
          label="Create it with the wasm/v86 backend"
          checked={taken}
          onChange={(v) => w.set('backend', v ? 'wasm/v86' : 'qemu')}
          hint={taken ? 'One CPU, BIOS, an IDE disk as a raw image; start it from its Screen tab.' : undefined}
        />
      </div>
    </section>
  );
}
