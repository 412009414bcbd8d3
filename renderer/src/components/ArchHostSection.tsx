import type { HostInfo } from '../../../electron/api/types.ts';
import { ARCH_LABEL } from '../../../electron/shared/arch-rules.ts';
import { ErrorAlert, KV, Section } from './ui.tsx';

// The host panel's view of the guest architectures besides x86_64 (whose QEMU, accelerator and
// firmware the panel's own sections show): each one's emulator, accelerator verdict with its
// reason (aarch64 on an x86 host: TCG only, and why), and UEFI firmware.

export function ArchHostSections({ host }: { host: HostInfo }) {
  return (
    <>
      {(host.arches ?? []).filter((a) => a.arch !== 'x86_64').map((a) => (
        <Section key={a.arch} title={`${ARCH_LABEL[a.arch]} guests`}>
          <div className="flex flex-col gap-2 text-sm" data-testid={`arch-${a.arch}`}>
            {a.qemu.found ? (
              <KV
                rows={[
                  ['QEMU', <span className="font-mono text-xs break-all">{a.qemu.binary} ({a.qemu.version})</span>],
                  ['Accelerator', a.accel ? <span data-testid={`arch-${a.arch}-accel`}><span className="font-semibold">{a.accel.chosen.toUpperCase()}</span> — {a.accel.reason}</span> : 'not tested yet'],
                  ['Firmware', a.firmware.length ? a.firmware.map((f) => f.description).join('; ') : 'no UEFI firmware found: these guests cannot boot (install qemu-efi-aarch64 or edk2-aarch64)'],
                ]}
              />
            ) : (
              <ErrorAlert title={`No QEMU for ${a.arch} guests`} error={a.qemu.error} />
            )}
          </div>
        </Section>
      ))}
    </>
  );
}
