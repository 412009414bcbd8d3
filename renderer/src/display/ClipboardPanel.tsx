import { useId, useState } from 'react';
import { area, btn, panel } from './styles.ts';

// The shared clipboard as a panel: browsers let a page read the system clipboard only on
// request (and not at all over plain http), so text travels through two boxes here. "Send"
// hands the text to noVNC (RFB cut text, relayed by QEMU to the guest's vdagent); text the
// guest copies arrives in the second box and is put on the browser's clipboard when allowed.

export interface ClipboardPanelProps {
  /** devices.clipboard of the VM: off means QEMU gives the guest no vdagent port */
  enabled: boolean;
  connected: boolean;
  /** the guest's last copied text, null before any */
  fromGuest: string | null;
  /** why the browser refused to take the guest's text, if it did */
  copyNote: string | null;
  send(text: string): void;
  copy(text: string): void;
}

export const CLIPBOARD_OFF =
  'Clipboard sharing is off for this VM, so the guest cannot read what you copy. Turn it on in Settings → Devices ("Shared clipboard") and restart the VM; the guest needs spice-vdagent.';

export function ClipboardPanel({ enabled, connected, fromGuest, copyNote, send, copy }: ClipboardPanelProps) {
  const [text, setText] = useState('');
  const [sent, setSent] = useState(false);
  const toId = useId();
  const fromId = useId();
  if (!enabled) return <div role="dialog" aria-label="Clipboard" className={panel}><p>{CLIPBOARD_OFF}</p></div>;

  const pasteFromBrowser = async () => {
    try {
      setText(await navigator.clipboard.readText());
    } catch {
      // Denied or unavailable (plain http): the box still takes Ctrl+V.
    }
  };

  return (
    <div role="dialog" aria-label="Clipboard" className={`${panel} space-y-2`}>
      <p className="text-xs text-zinc-600 dark:text-zinc-300">Text copied here reaches the guest&apos;s clipboard through its agent (spice-vdagent); text the guest copies shows below.</p>
      <div>
        <label htmlFor={toId} className="text-xs font-medium">To the guest</label>
        <textarea id={toId} rows={3} className={area} value={text} onChange={(e) => { setText(e.target.value); setSent(false); }} />
        <div className="mt-1 flex gap-1.5">
          <button type="button" className={btn} disabled={!connected || !text} onClick={() => { send(text); setSent(true); }}>Send to guest</button>
          {typeof navigator.clipboard?.readText === 'function' && <button type="button" className={btn} onClick={() => void pasteFromBrowser()}>Paste from my clipboard</button>}
          {sent && <span className="text-xs text-emerald-700 dark:text-emerald-400" role="status">Sent</span>}
        </div>
      </div>
      <div>
        <label htmlFor={fromId} className="text-xs font-medium">From the guest</label>
        <textarea id={fromId} rows={3} readOnly className={area} value={fromGuest ?? ''} placeholder="Nothing copied in the guest yet" />
        <div className="mt-1 flex items-center gap-1.5">
          <button type="button" className={btn} disabled={fromGuest === null} onClick={() => fromGuest !== null && copy(fromGuest)}>Copy to my clipboard</button>
          {copyNote && <span className="text-xs text-zinc-600 dark:text-zinc-300" role="status">{copyNote}</span>}
        </div>
      </div>
    </div>
  );
}
