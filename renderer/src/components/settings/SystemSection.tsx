import type { VmConfig } from '../../../../electron/api/types.ts';
import { ACCELERATORS, FIRMWARES } from '../../../../electron/shared/config-enums.ts';
import { formatBytes, formatMiB } from '../../../../electron/shared/size.ts';
import { Check, Field, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

const FIRMWARE_LABEL: Record<VmConfig['system']['firmware'], string> = { bios: 'BIOS (SeaBIOS)', uefi: 'UEFI (OVMF)' };
const accelLabel = (a: VmConfig['system']['accel']) => (a === 'auto' ? 'Automatic' : `${a.toUpperCase()}${a === 'tcg' ? ' (emulation)' : ''}`);

export function SystemSection({ cfg: c, edit, extra, setExtra, issue, lock, host, vm }: SectionProps) {
  const hostCpus = host?.cpus ?? 512;
  const fwUnavailable = host && host.firmware.length === 0 ? 'No UEFI firmware (OVMF) on this host.' : null;
  const locked = { disabled: !!lock, title: lock ?? undefined };
  return (
    <>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label={`CPUs (host has ${hostCpus})`} error={issue('system.cpus')} hint={lock ?? undefined}>
          {(p) => <input {...p} {...locked} type="number" min={1} max={hostCpus} className={inputClass} value={c.system.cpus} onChange={(e) => edit((n) => void (n.system.cpus = Number(e.target.value)))} />}
        </Field>
        <Field label={`Memory (host has ${formatBytes(host?.memoryBytes ?? null)})`} error={issue('system.memoryMiB')} hint={lock ?? `Now ${formatMiB(vm.config?.system.memoryMiB ?? 0)}`}>
          {(p) => <input {...p} {...locked} className={inputClass} value={extra.memory} onChange={(e) => setExtra((x) => ({ ...x, memory: e.target.value }))} />}
        </Field>
        <Field label="Firmware" error={issue('system.firmware')}>
          {(p) => (
            <select {...p} {...locked} className={inputClass} value={c.system.firmware} onChange={(e) => edit((n) => {
              n.system.firmware = e.target.value as VmConfig['system']['firmware'];
              if (n.system.firmware !== 'uefi') n.system.secureBoot = false;
            })}>
              {FIRMWARES.map((f) => (
                <option key={f} value={f} disabled={f === 'uefi' && !!fwUnavailable}>
                  {FIRMWARE_LABEL[f]}{f === 'uefi' && fwUnavailable ? ' — not installed' : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Accelerator" error={issue('system.accel')} hint={host?.accel ? `Auto picks ${host.accel.chosen.toUpperCase()} here: ${host.accel.reason}` : undefined}>
          {(p) => (
            <select {...p} {...locked} className={inputClass} value={c.system.accel} onChange={(e) => edit((n) => void (n.system.accel = e.target.value as VmConfig['system']['accel']))}>
              {ACCELERATORS.map((a) => <option key={a} value={a}>{accelLabel(a)}</option>)}
            </select>
          )}
        </Field>
      </div>
      <Check label="Secure Boot" checked={c.system.secureBoot} disabled={!!lock || c.system.firmware !== 'uefi'} hint={issue('system.secureBoot') ?? lock ?? (c.system.firmware !== 'uefi' ? 'Needs UEFI firmware.' : undefined)} onChange={(v) => edit((n) => void (n.system.secureBoot = v))} />
      <Check label="TPM 2.0" checked={c.system.tpm} disabled={!!lock || (!host?.tpm.available && !c.system.tpm)} hint={issue('system.tpm') ?? lock ?? (host && !host.tpm.available ? `Unavailable: ${host.tpm.reason ?? 'swtpm not found'}` : undefined)} onChange={(v) => edit((n) => void (n.system.tpm = v))} />
      <Check label="Guest clock in local time" checked={c.system.rtcLocalTime} disabled={!!lock} hint={lock ?? 'For Windows and DOS guests.'} onChange={(v) => edit((n) => void (n.system.rtcLocalTime = v))} />
    </>
  );
}
