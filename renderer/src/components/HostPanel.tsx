import { useState } from 'react';
import type { HostInfo } from '../../../electron/api/types.ts';
import type { WireError } from '../api/client.ts';
import { useClient, useErrors } from '../api/context.tsx';
import { formatBytes } from '../../../electron/shared/size.ts';
import { Button, ErrorAlert, KV, Section } from './ui.tsx';
import { ArchHostSections } from './ArchHostSection.tsx';
import { HostOverview } from './stats/HostOverview.tsx';
import { SelfTestProgress } from './SelfTestProgress.tsx';

// What this host can do and why: the accelerator verdict (with its self-test evidence),
// QEMU, firmware and TPM. A missing feature is explained, not hidden.

export function HostPanel({ host, error, onHost }: { host: HostInfo | null; error: WireError | null; onHost: (h: HostInfo) => void }) {
  const client = useClient();
  const { report } = useErrors();
  const [testing, setTesting] = useState(false);

  if (error) return <ErrorAlert title="Could not read host information" error={error} />;
  if (!host) return <p className="text-sm text-zinc-600 dark:text-zinc-400">Reading host information…</p>;

  const retest = async () => {
    setTesting(true);
    try {
      await client.call('host.selfTest', { force: true });
      onHost(await client.call('host.info', { refresh: true }));
    } catch (e) {
      report('Accelerator self-test failed', e);
    } finally {
      setTesting(false);
    }
  };

  const q = host.qemu;
  return (
    <div className="grid gap-4 lg:grid-cols-2" data-testid="host-panel">
      <Section title="QEMU">
        {q.found ? (
          <KV
            rows={[
              ['Version', <span data-testid="qemu-version">{q.version}</span>],
              ['Binary', <span className="font-mono text-xs break-all">{q.binary}</span>],
              ['qemu-img', q.imgBinary ? <span className="font-mono text-xs break-all">{q.imgBinary}</span> : 'not found'],
              ['Found via', q.source],
              ['Accelerators built in', q.accels.join(', ') || '—'],
            ]}
          />
        ) : (
          <ErrorAlert title="QEMU was not found" error={q.error} />
        )}
      </Section>
      <Section
        title="Accelerator"
        actions={
          <Button size="sm" disabledReason={testing ? 'Testing…' : !q.found ? 'QEMU is needed for the self-test.' : null} onClick={retest}>
            Run self-test again
          </Button>
        }
      >
        {testing && <SelfTestProgress accels={host.accel?.candidates.map((c) => c.accel) ?? (q.found ? q.accels : [])} />}
        {host.accel ? (
          <div className="flex flex-col gap-2 text-sm">
            <p>
              <span className="font-semibold uppercase" data-testid="accel-chosen">{host.accel.chosen}</span>
              <span className="text-zinc-600 dark:text-zinc-400"> — </span>
              <span data-testid="accel-reason">{host.accel.reason}</span>
            </p>
            <ul className="flex flex-col gap-1">
              {host.accel.candidates.map((c) => (
                <li key={c.accel} className="flex gap-2">
                  <span className="w-12 font-mono text-xs uppercase">{c.accel}</span>
                  <span className={c.ok ? 'text-emerald-800 dark:text-emerald-300' : 'text-zinc-700 dark:text-zinc-300'}>
                    {c.verdict}
                    {c.bootMs !== undefined ? ` (boot ${c.bootMs} ms)` : ''}
                  </span>
                </li>
              ))}
            </ul>
            <p className="text-xs text-zinc-600 dark:text-zinc-400">
              Tested {new Date(host.accel.testedAt).toLocaleString()}{host.accel.cached ? ' (cached result)' : ''}
            </p>
          </div>
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">Not tested yet.</p>
        )}
      </Section>
      <Section title="Firmware">
        {host.firmware.length ? (
          <ul className="flex flex-col gap-1 text-sm">
            {host.firmware.map((f) => (
              <li key={f.code}>
                {f.description}
                <span className="text-zinc-600 dark:text-zinc-400">
                  {f.secureBoot ? ' · Secure Boot' : ''}
                  {f.enrolledKeys ? ' · keys enrolled' : ''}
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm">No UEFI firmware found: VMs boot with BIOS (SeaBIOS) only. Install OVMF for UEFI.</p>
        )}
      </Section>
      <ArchHostSections host={host} />
      <HostOverview />
      <Section title="Host">
        <KV
          rows={[
            ['Vireo', host.appVersion],
            ['Platform', `${host.platform} ${host.arch}`],
            ['CPUs', String(host.cpus)],
            ['Memory', formatBytes(host.memoryBytes)],
            ['TPM 2.0', host.tpm.available ? `available (${host.tpm.binary ?? 'swtpm'})` : `unavailable${host.tpm.reason ? `: ${host.tpm.reason}` : ''}`],
            ['Library', <span className="font-mono text-xs break-all">{host.home}</span>],
          ]}
        />
      </Section>
    </div>
  );
}
