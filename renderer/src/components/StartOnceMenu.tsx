import { useEffect, useState } from 'react';
import type { VmSummary } from '../../../electron/api/types.ts';
import { useClient } from '../api/context.tsx';
import { MenuButton } from './ui.tsx';

// The "▾" next to Start: "Start from CD once" (vms.start bootOnce 'cdrom') boots this one
// time from the CD, the saved boot order staying as it is. It needs an ISO in some CD drive,
// which the VM list does not carry, so the VM's config is read whenever the VM or its state
// changes (the CD is changed in Settings, which closes before Start is pressed again).

export function StartOnceMenu({ vm, startWhy, onStart }: { vm: VmSummary | null; startWhy: string | null; onStart: (bootOnce: 'cdrom') => void }) {
  const client = useClient();
  const [noIso, setNoIso] = useState<string | null>('Checking the CD drives…');
  const id = vm?.id;
  const state = vm?.state;

  useEffect(() => {
    if (!id) return;
    let live = true;
    setNoIso('Checking the CD drives…');
    client.call('vms.get', { vm: id }).then(
      (d) => {
        if (!live) return;
        const c = d.config;
        if (!c) setNoIso('The configuration could not be read.');
        else setNoIso([c.cdrom, ...c.cdrom.extra].some((x) => x.iso !== null) ? null : 'No ISO in a CD drive: insert one in Settings → CD-ROM first.');
      },
      () => live && setNoIso('The VM’s CD drives could not be read.'),
    );
    return () => {
      live = false;
    };
  }, [client, id, state]);

  return (
    <MenuButton
      label={<span className="sr-only">More ways to boot</span>}
      disabledReason={startWhy}
      items={[{ label: 'Start from CD once', disabledReason: startWhy ?? noIso, onSelect: () => onStart('cdrom') }]}
    />
  );
}
