import { useEffect, useState } from 'react';
import type { HostUsbList, VmUsbDevice } from '../../../../electron/api/usb-types.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { FileBrowser } from '../FileBrowser.tsx';
import { Button, Check, ErrorAlert } from '../ui.tsx';
import type { SectionProps } from './types.ts';

// Settings → USB: the host's devices (with whether this user may pass each through, and the
// fix when not: shown, never hidden) and the VM's own. Like Disks, changes go to the engine at
// once (usb.attach/detach: live when the VM runs, and saved), not with Save: a device plugged
// into a running guest cannot wait for the dialog to close.

export function UsbSection({ vm, running }: SectionProps) {
  const client = useClient();
  const [host, setHost] = useState<HostUsbList | null>(null);
  const [mine, setMine] = useState<VmUsbDevice[] | null>(null);
  const [error, setError] = useState<WireError | null>(null);
  const [busy, setBusy] = useState(false);
  const [browse, setBrowse] = useState(false);
  const [stickReadOnly, setStickReadOnly] = useState(false);

  useEffect(() => {
    let live = true;
    client.call('usb.list', {}).then((h) => live && setHost(h), (e) => live && setError(asWireError(e)));
    client.call('usb.devices', { vm: vm.id }).then((d) => live && setMine(d), (e) => live && setError(asWireError(e)));
    return () => {
      live = false;
    };
  }, [client, vm.id, running]);

  const act = async (f: () => Promise<VmUsbDevice[]>) => {
    setBusy(true);
    setError(null);
    try {
      setMine(await f());
      // usedBy in the host list changes with the VM's devices.
      setHost(await client.call('usb.list', {}));
    } catch (e) {
      setError(asWireError(e));
    } finally {
      setBusy(false);
    }
  };
  const attach = (device: string, readOnly?: boolean) => act(() => client.call('usb.attach', { vm: vm.id, device, ...(readOnly ? { readOnly } : {}) }));
  const why = busy ? 'Working…' : null;
  const where = running ? 'The VM runs: devices are plugged in and out at once, and saved.' : 'Changes here apply at once, not with Save.';

  return (
    <div className="flex flex-col gap-4 text-sm">
      <section aria-label="This VM's USB devices" className="flex flex-col gap-2">
        <h3 className="font-medium">This VM’s USB devices</h3>
        {!mine && <p>Loading…</p>}
        {mine?.length === 0 && <p className="text-zinc-600 dark:text-zinc-400">No USB devices.</p>}
        <ul className="flex flex-col gap-2" aria-label="VM USB devices">
          {mine?.map((d) => (
            <li key={d.id} aria-label={d.label} className="flex flex-wrap items-center gap-2 rounded-md border border-zinc-200 p-2 dark:border-zinc-700">
              <span className="min-w-0 flex-1">
                <span className="font-medium">{d.label}</span>{' '}
                <span className="text-xs text-zinc-600 dark:text-zinc-400">· {d.kind}{d.host ? ` ${d.host}` : ''} · {d.saved ? 'saved' : 'this run only'}{running ? (d.live ? ' · attached' : ' · not attached') : ''}</span>
                {d.file && <span className="block font-mono text-xs break-all">{d.file}</span>}
                {d.note && <span className="block text-xs text-amber-800 dark:text-amber-300">{d.note}</span>}
              </span>
              <Button size="sm" type="button" disabledReason={why} onClick={() => void act(() => client.call('usb.detach', { vm: vm.id, device: d.id }))}>Detach</Button>
            </li>
          ))}
        </ul>
        <div role="group" aria-label="Add an emulated USB device" className="flex flex-wrap items-center gap-2">
          <Button size="sm" type="button" disabledReason={why} onClick={() => void attach('keyboard')}>Add keyboard</Button>
          <Button size="sm" type="button" disabledReason={why} onClick={() => void attach('mouse')}>Add mouse</Button>
          <Button size="sm" type="button" disabledReason={why} aria-expanded={browse} onClick={() => setBrowse((b) => !b)}>Add USB stick from image…</Button>
          <Check label="Stick read-only" checked={stickReadOnly} onChange={setStickReadOnly} />
        </div>
        {browse && (
          <FileBrowser
            filter="disk"
            onCancel={() => setBrowse(false)}
            onPick={(path) => {
              setBrowse(false);
              void attach(path, stickReadOnly);
            }}
          />
        )}
        <p className="text-xs text-zinc-600 dark:text-zinc-400">{where}</p>
      </section>
      <section aria-label="Host USB devices" className="flex flex-col gap-2 border-t border-zinc-200 pt-3 dark:border-zinc-700">
        <h3 className="font-medium">The host’s USB devices</h3>
        {!host && !error && <p>Loading…</p>}
        {host && !host.supported && <p role="note">Host USB devices cannot be listed here: {host.reason}</p>}
        {host?.supported && host.devices.length === 0 && (
          <p role="note">This host has no USB devices to pass through (none are plugged in, or it has no USB bus). Emulated devices above work without one.</p>
        )}
        <ul className="flex flex-col gap-2" aria-label="Host USB devices">
          {host?.devices.map((d) => {
            const ours = d.usedBy.some((u) => u.vmId === vm.id);
            const others = d.usedBy.filter((u) => u.vmId !== vm.id).map((u) => u.name);
            const reason = d.hub ? 'A hub: its ports belong to the host; pass through the devices plugged into it.' : !d.access.ok ? (d.access.reason ?? 'This user may not open it.') : ours ? 'This VM has it already.' : null;
            return (
              <li key={d.address} aria-label={d.name} className="flex flex-wrap items-center gap-2 rounded-md border border-zinc-200 p-2 dark:border-zinc-700">
                <span className="min-w-0 flex-1">
                  <span className="font-medium">{d.name}</span>{' '}
                  <span className="font-mono text-xs">{d.vendorId}:{d.productId}</span>{' '}
                  <span className="text-xs text-zinc-600 dark:text-zinc-400">at {d.address}{d.speedMbps ? ` · ${d.speedMbps} Mbit/s` : ''}{others.length ? ` · used by ${others.join(', ')}` : ''}</span>
                  {!d.access.ok && (
                    <span className="block text-xs text-amber-800 dark:text-amber-300">
                      {d.access.reason}{d.access.fix ? <> Fix: <code className="font-mono">{d.access.fix}</code></> : null}
                    </span>
                  )}
                </span>
                <Button size="sm" type="button" disabledReason={why ?? reason} onClick={() => void attach(`${d.vendorId}:${d.productId}`)}>Attach</Button>
              </li>
            );
          })}
        </ul>
        {host && <p className="text-xs text-zinc-600 dark:text-zinc-400">Names from {host.namesFrom}.</p>}
      </section>
      {error && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
    </div>
  );
}
