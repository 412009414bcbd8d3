import { useCallback, useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import RFB from '@novnc/novnc';
import type { ApiClient } from '../../../electron/api/contract.ts';
import type { VmState } from '../../../electron/api/types.ts';
import { resizeAvailability } from '../../../electron/shared/display-caps.ts';
import { plural } from '../../../electron/shared/plural.ts';
import { ClipboardPanel, CLIPBOARD_OFF } from './ClipboardPanel.tsx';
import { FileDrop } from './FileDrop.tsx';
import { backoffMs, COMBOS, comboEvents, isReleaseChord, releaseEvents, screenshotName, type Combo } from './keys.ts';
import { btn } from './styles.ts';
import { TypeTextPanel } from './TypeTextPanel.tsx';
import { BootProblemBanner } from './BootProblemBanner.tsx';
import { useVmConfig } from './useVmConfig.ts';
import { hasScreen, useVmState } from './useVmState.ts';

// The VM's screen: noVNC's RFB on the token-protected WebSocket from `display.open`. The RFB
// object lives in a ref (it owns a canvas and a socket, not React state) and is torn down on
// unmount; a dropped socket while the VM runs gets a fresh session, because tokens are short
// lived and a guest reboot or QEMU restart closes the old one.

export interface DisplayViewProps {
  vmId: string;
  client: ApiClient;
  /** the parent's view of the VM state; followed through events when absent */
  vmState?: VmState;
  /** shown in the status bar when given */
  vmName?: string;
  accel?: string | null;
  cpus?: number;
  memoryMiB?: number;
  className?: string;
}

type Link = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed';
type Open = 'keys' | 'clipboard' | 'type' | null;

export function DisplayView({ vmId, client, vmState, vmName, accel, cpus, memoryMiB, className }: DisplayViewProps) {
  const state = useVmState(client, vmId, vmState);
  const live = hasScreen(state);
  const config = useVmConfig(client, vmId);
  const frameRef = useRef<HTMLDivElement>(null);
  const areaRef = useRef<HTMLDivElement>(null);
  const screenRef = useRef<HTMLDivElement>(null);
  /** DOM codes of keys that went down on the screen and have not come up there */
  const held = useRef(new Set<string>());
  const rfbRef = useRef<RFB | null>(null);
  const [link, setLink] = useState<Link>('idle');
  const [error, setError] = useState<string | null>(null);
  const [fit, setFit] = useState(true);
  const [resize, setResize] = useState(false);
  const [captured, setCaptured] = useState(false);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [open, setOpen] = useState<Open>(null);
  const [fullscreen, setFullscreen] = useState(false);
  const [fromGuest, setFromGuest] = useState<string | null>(null);
  const [copyNote, setCopyNote] = useState<string | null>(null);
  const device = config?.display.device ?? null;
  const resizable = device ? resizeAvailability(device) : null;
  const clipboardOn = config?.devices.clipboard ?? false;
  const resizeOn = resize && !!resizable?.ok;
  const prefs = useRef({ fit, resize: resizeOn });
  prefs.current = { fit, resize: resizeOn };
  const toggle = (o: Exclude<Open, null>) => setOpen((cur) => (cur === o ? null : o));

  const copyToBrowser = useCallback((text: string) => {
    // Allowed only with a recent user gesture or clipboard permission; otherwise the text
    // waits in the panel for "Copy to my clipboard".
    if (typeof navigator.clipboard?.writeText !== 'function') {
      setCopyNote('This page may not use the clipboard (plain http): select the text and press Ctrl+C');
      return;
    }
    navigator.clipboard.writeText(text).then(
      () => setCopyNote('Copied to your clipboard'),
      () => setCopyNote('The browser did not allow copying: select the text and press Ctrl+C'),
    );
  }, []);
  const onGuestText = useRef(copyToBrowser);
  onGuestText.current = (text: string) => {
    setFromGuest(text);
    copyToBrowser(text);
  };

  // One connection loop per (VM, live): open a session, attach RFB, and on an unclean drop
  // try again with backoff for as long as the VM has a screen.
  useEffect(() => {
    if (!live) {
      setLink('idle');
      setSize(null);
      return;
    }
    const target = screenRef.current;
    if (!target) return;
    let stopped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let sizeTimer: ReturnType<typeof setInterval> | null = null;

    const readSize = () => {
      const canvas = target.querySelector('canvas');
      if (canvas && canvas.width > 0) setSize((s) => (s && s.w === canvas.width && s.h === canvas.height ? s : { w: canvas.width, h: canvas.height }));
    };

    const connect = async () => {
      setLink(attempt === 0 ? 'connecting' : 'reconnecting');
      let url: string;
      try {
        url = (await client.call('display.open', { vm: vmId })).url;
      } catch (e) {
        if (stopped) return;
        setError((e as { message?: string }).message ?? String(e));
        retry();
        return;
      }
      if (stopped) return;
      const rfb = new RFB(target, url, { shared: true });
      rfbRef.current = rfb;
      rfb.background = 'rgb(24, 24, 27)';
      rfb.scaleViewport = prefs.current.fit;
      rfb.clipViewport = false;
      rfb.resizeSession = prefs.current.resize;
      rfb.focusOnClick = true;
      // Text the guest copied (QEMU's vdagent → VNC extended clipboard → noVNC).
      rfb.addEventListener('clipboard', (e) => onGuestText.current(e.detail.text));
      rfb.addEventListener('connect', () => {
        attempt = 0;
        setError(null);
        setLink('connected');
        readSize();
      });
      rfb.addEventListener('disconnect', () => {
        if (rfbRef.current === rfb) rfbRef.current = null;
        setCaptured(false);
        if (!stopped) retry();
      });
      rfb.addEventListener('securityfailure', (e) => {
        setError(`the VM's display refused the connection${e.detail.reason ? `: ${e.detail.reason}` : ''}`);
      });
      rfb.addEventListener('credentialsrequired', () => {
        setError('the VM display asks for a password, which Vireo does not set: check the VM\'s extra QEMU arguments');
        rfb.disconnect();
      });
    };

    const retry = () => {
      if (stopped) return;
      setLink(attempt >= 8 ? 'failed' : 'reconnecting');
      timer = setTimeout(() => void connect(), backoffMs(attempt++));
    };

    void connect();
    // The canvas size changes when the guest switches mode (text mode, firmware, desktop).
    sizeTimer = setInterval(readSize, 1000);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (sizeTimer) clearInterval(sizeTimer);
      const rfb = rfbRef.current;
      rfbRef.current = null;
      try {
        rfb?.disconnect();
      } catch {
        // already disconnected
      }
      // noVNC leaves its screen element behind after disconnect; clear it for the next RFB.
      target.replaceChildren();
    };
  }, [client, vmId, live]);

  useEffect(() => {
    const rfb = rfbRef.current;
    if (rfb) rfb.scaleViewport = fit;
  }, [fit]);
  useEffect(() => {
    const rfb = rfbRef.current;
    if (rfb) rfb.resizeSession = resizeOn;
  }, [resizeOn]);

  useEffect(() => {
    const onFs = () => setFullscreen(document.fullscreenElement === frameRef.current);
    document.addEventListener('fullscreenchange', onFs);
    return () => document.removeEventListener('fullscreenchange', onFs);
  }, []);

  // Capture phase: the chord is seen before noVNC's canvas handler forwards it to the guest.
  // Ctrl and Alt of the chord already reached the guest and their key-ups will go to the page,
  // so the guest is told every key is up (else it keeps them held: "echo" arrives as ^E^C^H^O).
  // Focus stays on the screen area, not the canvas: the keyboard is the page's again, Tab goes
  // on from here and Enter captures it again.
  const onKeyDownCapture = useCallback((e: ReactKeyboardEvent) => {
    const onCanvas = e.target instanceof HTMLCanvasElement;
    if (e.key === 'F11') {
      // The screen's own full screen (the browser's would show the whole page), even while captured.
      e.preventDefault();
      e.stopPropagation();
      if (document.fullscreenElement) void document.exitFullscreen();
      else void frameRef.current?.requestFullscreen().catch(() => {});
    } else if (isReleaseChord(e.nativeEvent)) {
      e.preventDefault();
      e.stopPropagation();
      const rfb = rfbRef.current;
      if (rfb) for (const { key, down } of releaseEvents(held.current)) rfb.sendKey(key.keysym, key.code, down);
      held.current.clear();
      setCaptured(false);
      areaRef.current?.focus({ preventScroll: true });
    } else if (onCanvas) {
      held.current.add(e.code);
    } else if (e.target === areaRef.current && e.key === 'Enter') {
      e.preventDefault();
      rfbRef.current?.focus();
    }
  }, []);
  const onKeyUpCapture = useCallback((e: ReactKeyboardEvent) => {
    held.current.delete(e.code);
  }, []);

  const sendCombo = (c: Combo) => {
    const rfb = rfbRef.current;
    setOpen(null);
    if (!rfb) return;
    if (c.label === 'Ctrl+Alt+Del') rfb.sendCtrlAltDel();
    else for (const { key, down } of comboEvents(c.keys)) rfb.sendKey(key.keysym, key.code, down);
    rfb.focus();
  };

  const screenshot = () => {
    const rfb = rfbRef.current;
    if (!rfb) return;
    rfb.toBlob((blob) => {
      if (!blob) return;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = screenshotName(vmName ?? vmId);
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    }, 'image/png');
  };

  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void frameRef.current?.requestFullscreen().catch(() => {});
  };

  const connected = link === 'connected';
  const linkText: Record<Link, string> = {
    idle: state === null ? 'Loading…' : 'Not running',
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    failed: 'Cannot connect',
  };

  return (
    <div ref={frameRef} className={`flex h-full min-h-[20rem] flex-col bg-zinc-100 dark:bg-zinc-950 ${className ?? ''}`} data-testid="vm-display">
      <div role="toolbar" aria-label="Screen controls" className="flex flex-wrap items-center gap-1.5 border-b border-zinc-200 bg-white px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900">
        <button type="button" className={btn} disabled={!connected} aria-pressed={fit} onClick={() => setFit((f) => !f)} title="Scale the screen to the window, or show it pixel for pixel">
          {fit ? 'Scaled to fit' : 'Actual size (1:1)'}
        </button>
        <button type="button" className={btn} disabled={!connected || !resizable?.ok} aria-pressed={resizeOn} onClick={() => setResize((r) => !r)}
          title={resizable && !resizable.ok ? `Cannot resize: ${resizable.reason}` : 'Change the guest resolution to the window size (the guest follows the size hint; a text console only up to its size at boot)'}
          aria-describedby={resizable && !resizable.ok ? 'vireo-resize-reason' : undefined}>
          Resize guest {resizeOn ? 'on' : 'off'}
        </button>
        {resizable && !resizable.ok && <span id="vireo-resize-reason" className="sr-only">{`Cannot resize: ${resizable.reason}`}</span>}
        <div className="relative">
          <button type="button" className={btn} disabled={!connected} aria-haspopup="menu" aria-expanded={open === 'keys'} onClick={() => toggle('keys')}>
            Keys ▾
          </button>
          {open === 'keys' && (
            <ul role="menu" aria-label="Send keys" className="absolute left-0 z-20 mt-1 max-h-80 w-52 overflow-y-auto rounded-md border border-zinc-200 bg-white py-1 text-sm shadow-lg dark:border-zinc-700 dark:bg-zinc-800"
              onKeyDown={(e) => e.key === 'Escape' && setOpen(null)}>
              {COMBOS.map((c) => (
                <li key={c.label} role="none">
                  <button type="button" role="menuitem" className="block w-full px-3 py-1 text-left hover:bg-zinc-100 dark:hover:bg-zinc-700" onClick={() => sendCombo(c)}>
                    {c.label}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="relative">
          <button type="button" className={btn} disabled={!connected} aria-expanded={open === 'type'} onClick={() => toggle('type')} title="Type a text as key presses (installers, setup screens)">
            Type text…
          </button>
          {open === 'type' && <TypeTextPanel client={client} vmId={vmId} onDone={() => setOpen(null)} />}
        </div>
        <div className="relative" onKeyDown={(e) => e.key === 'Escape' && setOpen(null)}>
          <button type="button" className={btn} disabled={!config} aria-expanded={open === 'clipboard'} onClick={() => toggle('clipboard')}
            title={clipboardOn ? 'Copy and paste text with the guest' : CLIPBOARD_OFF}>
            Clipboard {clipboardOn ? 'on' : 'off'}
          </button>
          {open === 'clipboard' && (
            <ClipboardPanel enabled={clipboardOn} connected={connected} fromGuest={fromGuest} copyNote={copyNote}
              send={(t) => rfbRef.current?.clipboardPasteFrom(t)} copy={copyToBrowser} />
          )}
        </div>
        <button type="button" className={btn} disabled={!connected} onClick={screenshot} title="Save the screen as a PNG file">
          Screenshot
        </button>
        <button type="button" className={btn} disabled={!live} onClick={toggleFullscreen}>
          {fullscreen ? 'Exit full screen' : 'Full screen'}
        </button>
        <span className="ml-auto text-xs text-zinc-600 dark:text-zinc-400" aria-live="polite">
          {connected && (captured ? 'Keyboard captured — press Ctrl+Alt+G to release' : 'Click the screen to type into the VM')}
        </span>
      </div>

      <BootProblemBanner client={client} vmId={vmId} running={state === 'running'} />
      <div ref={areaRef} tabIndex={-1} data-testid="vm-screen-area" className="relative min-h-0 flex-1 outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
        onKeyDownCapture={onKeyDownCapture} onKeyUpCapture={onKeyUpCapture}
        onFocusCapture={(e) => setCaptured(e.target instanceof HTMLCanvasElement)} onBlurCapture={() => setCaptured(false)}>
        <div ref={screenRef} className="absolute inset-0" data-testid="vm-screen" role="application" aria-label={`Screen of ${vmName ?? 'the VM'}`} />
        <FileDrop client={client} vmId={vmId} enabled={connected} />
        {!connected && (
          <div className="pointer-events-none absolute inset-0 flex items-center justify-center p-6 text-center text-sm text-zinc-600 dark:text-zinc-300">
            {live ? (
              <p>{link === 'failed' ? `Cannot reach the VM's screen${error ? `: ${error}` : ''}. Still retrying…` : `${linkText[link]}${error ? ` (${error})` : ''}`}</p>
            ) : (
              <p>{state === null ? 'Loading…' : `The VM is ${state}. Start it to see its screen.`}</p>
            )}
          </div>
        )}
      </div>

      <div role="status" className="flex flex-wrap items-center gap-x-4 gap-y-0.5 border-t border-zinc-200 bg-white px-2 py-0.5 text-xs text-zinc-600 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-400">
        <span className="inline-flex items-center gap-1.5">
          <span aria-hidden className={`inline-block size-2 rounded-full ${connected ? 'bg-emerald-500' : live ? 'bg-amber-500' : 'bg-zinc-400'}`} />
          <span data-testid="display-link">{linkText[link]}</span>
        </span>
        {state && <span>VM: {state}</span>}
        {size && <span>{size.w}×{size.h}</span>}
        {accel && <span>{accel.toUpperCase()}</span>}
        {cpus !== undefined && <span>{plural(cpus, 'CPU')}</span>}
        {memoryMiB !== undefined && <span>{memoryMiB >= 1024 ? `${(memoryMiB / 1024).toFixed(memoryMiB % 1024 ? 1 : 0)} GiB` : `${memoryMiB} MiB`}</span>}
      </div>
    </div>
  );
}
