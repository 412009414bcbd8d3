import { useState } from 'react';
import type { VmDetails } from '../../../../electron/api/types.ts';
import { useClient, useErrors } from '../../api/context.tsx';
import { isInactive } from '../../../../electron/shared/states.ts';
import { Button, KV, Section } from '../ui.tsx';
import { CloneDialog } from './CloneDialog.tsx';

// Which VMs are linked to which, and the template switch with "New VM from template".

const withSnapshot = (name: string, snapshot: string | null) => (snapshot ? `“${name}” at snapshot “${snapshot}”` : `“${name}”`);

export function ClonesCard({ d }: { d: VmDetails }) {
  const client = useClient();
  const { report } = useErrors();
  const [making, setMaking] = useState(false);
  const [busy, setBusy] = useState(false);
  const info = d.clones;
  if (!info) return null;
  const stopped = isInactive(d.state);
  const toggle = async () => {
    setBusy(true);
    try {
      await client.call('vms.update', { vm: d.id, patch: { template: !info.template } });
    } catch (e) {
      report(info.template ? `Could not turn off Template for ${d.name}` : `Could not make ${d.name} a template`, e);
    } finally {
      setBusy(false);
    }
  };
  const rows: Array<[string, string]> = [['Template', info.template ? 'Yes: it is not started; new VMs are made from it' : 'No']];
  if (info.linkedTo) rows.push(['Linked to', `${withSnapshot(info.linkedTo.name, info.linkedTo.snapshot)}${info.linkedTo.vmId ? '' : ' (deleted; its copy stays while this clone needs it)'}`]);
  if (info.baseOf.length) rows.push(['Base of', info.baseOf.map((b) => (b.snapshot ? `${b.name} (snapshot “${b.snapshot}”)` : b.name)).join(', ')]);
  return (
    <Section
      title="Clones and template"
      actions={
        <div className="flex gap-1">
          {info.template && (
            <Button size="sm" disabledReason={info.linked.available ? null : info.linked.reason} onClick={() => setMaking(true)}>
              New VM from template…
            </Button>
          )}
          <Button size="sm" disabledReason={busy ? 'Saving…' : stopped ? null : 'Shut the VM down first: only a stopped VM can become a template.'} onClick={() => void toggle()}>
            {info.template ? 'Turn off Template' : 'Make template'}
          </Button>
        </div>
      }
    >
      <KV rows={rows} />
      {making && <CloneDialog vm={d} fromTemplate onClose={() => setMaking(false)} />}
    </Section>
  );
}
