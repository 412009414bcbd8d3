import { useId, useState } from 'react';
import type { ApiClient } from '../../../electron/api/contract.ts';
import { TYPE_TEXT_MAX } from '../../../electron/shared/display-caps.ts';
import { area, btn, panel } from './styles.ts';
import { focusOnMount } from '../lib/focus.ts';

// "Type text…": the engine presses the keys for a text (vms.typeText), for screens no
// clipboard reaches: installers, Windows setup, firmware, guests without an agent.

export function TypeTextPanel({ client, vmId, onDone }: { client: ApiClient; vmId: string; onDone(): void }) {
  const [text, setText] = useState('');
  const [enter, setEnter] = useState(true);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const id = useId();

  const type = async () => {
    setBusy(true);
    setNote(null);
    try {
      await client.call('vms.typeText', { vm: vmId, text: enter ? `${text}\n` : text });
      setText('');
      onDone();
    } catch (e) {
      setNote((e as { message?: string }).message ?? String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div role="dialog" aria-label="Type text" className={`${panel} space-y-2`}>
      <label htmlFor={id} className="text-xs font-medium">Text to type into the VM</label>
      <textarea id={id} rows={3} maxLength={TYPE_TEXT_MAX} className={area} value={text} ref={focusOnMount} onChange={(e) => setText(e.target.value)} />
      <label className="flex items-center gap-1.5 text-xs">
        <input type="checkbox" checked={enter} onChange={(e) => setEnter(e.target.checked)} /> Press Enter at the end
      </label>
      <p className="text-xs text-zinc-600 dark:text-zinc-300">Sent as key presses of a US keyboard: a guest set to another layout gets that layout&apos;s symbols for the same keys.</p>
      {note && <p role="alert" className="text-xs text-red-700 dark:text-red-400">{note}</p>}
      <button type="button" className={btn} disabled={busy || !text} onClick={() => void type()}>{busy ? 'Typing…' : 'Type'}</button>
    </div>
  );
}
