import { useEffect, useMemo, useReducer, useRef } from 'react';
import type { HostInfo } from '../../../../electron/api/types.ts';
import { useClient } from '../../api/context.tsx';
import { useExpressInstall } from './ExpressInstall.tsx';
import { useCloudImage } from './CloudImageSource.tsx';
import { asWireError } from '../../api/client.ts';
import { issuesByField } from '../../lib/issues.ts';
import { retryUntilAnswered } from '../../lib/retry.ts';
import { checkWizard, createArgs, hasErrors, type Field, type WizardForm } from '../../lib/wizard.ts';
import { ALL_FIELDS, LAST_STEP, STEP_FIELDS, fieldStep, initialWizard, wizardReducer, type Step } from '../../lib/wizard-state.ts';

/**
 * The wizard's state (one reducer, lib/wizard-state.ts) plus what talks to the engine:
 * the OS list, OS detection on Next, vms.create and its job's progress.
 */
export function useWizard({ host, takenNames, onCreated }: { host: HostInfo | null; takenNames: string[]; onCreated: (id: string) => void }) {
  const client = useClient();
  const hostCpus = host?.cpus ?? 1;
  const hostMem = host?.memoryBytes ?? 1024 ** 3;
  const reducer = useMemo(() => wizardReducer({ cpus: hostCpus, memoryBytes: hostMem, taken: takenNames }), [hostCpus, hostMem, takenNames]);
  const [s, dispatch] = useReducer(reducer, { cpus: hostCpus, memoryBytes: hostMem, taken: takenNames }, initialWizard);
  const express = useExpressInstall(client, s.os?.id ?? null, s.form.source === 'iso');
  const cloud = useCloudImage(s.form.source === 'import' ? s.form.importDisk : null);
  const submittedAt = useRef<string | null>(null);

  // Asked again until it answers: a call lost to a dropped connection would leave the OS picker empty.
  useEffect(() => retryUntilAnswered(() => client.call('os.list', {}), (list) => dispatch({ type: 'oses', list })).stop, [client]);

  // Progress of our create/import job: the first such job that starts after we submitted.
  useEffect(
    () =>
      client.on('job.update', (j) => {
        if (!submittedAt.current || !['create', 'import', 'convert'].includes(j.kind)) return;
        if (j.startedAt < submittedAt.current) return;
        dispatch({ type: 'job', job: j });
      }),
    [client],
  );

  const check = useMemo(
    () => checkWizard(s.form, { hostCpus, hostMemoryBytes: hostMem, taken: takenNames, os: s.os, tpmAvailable: host?.tpm.available ?? false, arches: host?.arches }),
    [s.form, hostCpus, hostMem, takenNames, s.os, host],
  );

  const err = (f: Field) => s.serverErrors[f] ?? (s.touched.includes(f) ? check.errors[f] : undefined);
  const warn = (f: Field) => check.warnings[f];
  // An engine message about the ISO path stops counting once the user picks another source.
  const relevant = (f: Field) => (f !== 'iso' || s.form.source === 'iso') && (f !== 'importDisk' || s.form.source === 'import');
  const stepHasErrors = (st: Step) => STEP_FIELDS[st].some((f) => relevant(f) && (check.errors[f] || f in s.serverErrors));

  const set = <K extends keyof WizardForm>(key: K, value: WizardForm[K]) => dispatch({ type: 'set', key, value });

  const next = async () => {
    // Reveal every message on this step; stay here while any is an error.
    dispatch({ type: 'touch', fields: STEP_FIELDS[s.step] });
    if (stepHasErrors(s.step)) return;
    if (s.step === 0 && s.form.source === 'iso') {
      dispatch({ type: 'detectStart' });
      try {
        dispatch({ type: 'detected', result: await client.call('os.detect', { path: s.form.iso.trim() }) });
      } catch (e) {
        dispatch({ type: 'detectFailed', message: asWireError(e).message });
      }
      return;
    }
    dispatch({ type: 'goto', step: Math.min(LAST_STEP, s.step + 1) as Step });
  };

  const back = () => dispatch({ type: 'goto', step: Math.max(0, s.step - 1) as Step });

  const create = async () => {
    dispatch({ type: 'touch', fields: ALL_FIELDS });
    if (express.blocking) return false; // its fields show what is missing
    // The cloud image's fields are on the first step: go there, where they say what is wrong.
    if (cloud.blocking) return void dispatch({ type: 'goto', step: 0 }), false;
    if (hasErrors(check)) {
      dispatch({ type: 'goto', step: fieldStep(Object.keys(check.errors)[0]!) });
      return false;
    }
    dispatch({ type: 'createStart' });
    submittedAt.current = new Date(Date.now() - 2000).toISOString();
    try {
      const vm = await client.call('vms.create', { ...createArgs(s.form, s.os?.id ?? null), ...express.args(), ...cloud.args() });
      onCreated(vm.id);
      return true;
    } catch (e) {
      const w = asWireError(e);
      const fieldErrors: Record<string, string> = {};
      for (const [p, m] of issuesByField(w)) if (p in check.errors || ALL_FIELDS.includes(p as Field)) fieldErrors[p] = m;
      if (w.code === 'ALREADY_EXISTS') fieldErrors.name = w.message;
      dispatch({ type: 'createFailed', fieldErrors, error: w });
      submittedAt.current = null;
      return false;
    }
  };

  return {
    state: s, check, hostCpus, hostMem, err, warn, set, next, back, create, express, cloud,
    chooseOs: (os: typeof s.os) => dispatch({ type: 'chooseOs', os }),
    setBrowse: (open: boolean) => dispatch({ type: 'browse', open }),
  };
}

export type Wizard = ReturnType<typeof useWizard>;
