import { useEffect, useRef, useState } from 'react';
import type { HostInfo } from '../../../../electron/api/types.ts';
import { LAST_STEP, STEPS } from '../../lib/wizard-state.ts';
import { Button, Confirm, Dialog, cx } from '../ui.tsx';
import { HardwareStep } from './HardwareStep.tsx';
import { SourceStep } from './SourceStep.tsx';
import { SummaryStep } from './SummaryStep.tsx';
import { SystemStep } from './SystemStep.tsx';
import { useWizard } from './useWizard.ts';

// The New-VM wizard: the dialog frame and step navigation. Each step is its own component;
// the state and the calls to the engine live in useWizard.

export function NewVmWizard({ host, takenNames, onClose, onCreated }: {
  host: HostInfo | null;
  takenNames: string[];
  onClose: () => void;
  onCreated: (id: string) => void;
}) {
  const w = useWizard({ host, takenNames, onCreated });
  const { step, creating, detecting } = w.state;
  const submit = () => void (step < LAST_STEP ? w.next() : w.create().then((ok) => ok && onClose()));
  const form = useRef<HTMLFormElement>(null);
  const [asking, setAsking] = useState(false);
  // Anything typed or chosen (or a step passed) is worth a question before Esc throws it away.
  const entered = step > 0 || w.state.touched.length > 0;

  // Enter submits the step and its fields unmount: focus goes to the new step's first field,
  // not to the page body.
  useEffect(() => {
    const el = form.current?.querySelector<HTMLElement>('[data-autofocus]') ?? form.current?.querySelector<HTMLElement>('input:not([disabled]),select,textarea,button:not([hidden])');
    el?.focus();
  }, [step]);

  return (
    <Dialog
      title="New virtual machine"
      onClose={creating ? () => undefined : entered ? () => setAsking(true) : onClose}
      wide
      footer={
        <>
          <span className="mr-auto text-xs text-zinc-600 dark:text-zinc-400">
            Step {step + 1} of {STEPS.length}
          </span>
          <Button onClick={onClose} disabledReason={creating ? 'Creating the VM…' : null}>Cancel</Button>
          <Button disabledReason={step === 0 ? 'This is the first step.' : creating ? 'Creating the VM…' : null} onClick={w.back}>
            Back
          </Button>
          {step < LAST_STEP ? (
            <Button variant="primary" disabledReason={detecting ? 'Detecting the OS…' : null} onClick={submit}>
              {detecting ? 'Detecting…' : 'Next'}
            </Button>
          ) : (
            <Button variant="primary" disabledReason={creating ? 'Creating the VM…' : null} onClick={submit}>
              {creating ? 'Creating…' : 'Create'}
            </Button>
          )}
        </>
      }
    >
      <ol className="mb-4 flex gap-2 text-xs" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li
            key={s}
            aria-current={i === step ? 'step' : undefined}
            className={cx(
              'flex-1 border-t-2 pt-1',
              i === step ? 'border-accent-600 font-semibold' : i < step ? 'border-accent-300 text-zinc-700 dark:text-zinc-300' : 'border-zinc-200 text-zinc-600 dark:border-zinc-700 dark:text-zinc-400',
            )}
          >
            {i + 1}. {s}
          </li>
        ))}
      </ol>

      <form
        ref={form}
        className="flex flex-col gap-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        {step === 0 && <SourceStep w={w} />}
        {step === 1 && <SystemStep w={w} />}
        {step === 2 && <HardwareStep w={w} tpm={host?.tpm ?? null} />}
        {step === 3 && <SummaryStep w={w} />}
        {/* lets Enter submit the form from any text field */}
        <button type="submit" hidden tabIndex={-1} aria-hidden="true" />
      </form>
      {asking && (
        <Confirm title="Discard the new VM?" body="What you entered in this wizard is lost." confirmLabel="Discard" cancelLabel="Keep editing" danger onCancel={() => setAsking(false)} onConfirm={onClose} />
      )}
    </Dialog>
  );
}
