import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import type { ApiClient } from '../../../electron/api/contract.ts';
import type { VmState } from '../../../electron/api/types.ts';
import { backoffMs } from './keys.ts';
import { hasScreen, useVmState } from './useVmState.ts';

// The VM's serial port in xterm.js over the bridge's console WebSocket. Binary frames are
// console bytes both ways; text frames from the bridge are `{"type":"status","connected"}`
// (the bridge keeps the socket open while QEMU restarts and tells us so). Every new socket
// starts with a replay of recent output, so the terminal is reset before it.

export interface SerialConsoleProps {
  vmId: string;
  client: ApiClient;
  vmState?: VmState;
  className?: string;
  /** where the session comes from, when not console.open of a library VM (a libvirt domain's hosts.console) */
  open?: () => Promise<{ url: string }>;
}

type Link = 'idle' | 'connecting' | 'connected' | 'waiting' | 'reconnecting';

export function SerialConsole({ vmId, client, vmState, className, open }: SerialConsoleProps) {
  const state = useVmState(client, vmId, vmState);
  const live = hasScreen(state);
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const sockRef = useRef<WebSocket | null>(null);
  const [link, setLink] = useState<Link>('idle');
  const [error, setError] = useState<string | null>(null);
  const openRef = useRef(open);
  openRef.current = open;

  // The terminal outlives reconnections: created once per mount.
  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const term = new Terminal({
      convertEol: false,
      cursorBlink: true,
      scrollback: 5000,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      theme: { background: '#18181b' },
    });
    const fitAddon = new FitAddon();
    term.loadAddon(fitAddon);
    term.open(host);
    const fit = () => {
      try {
        fitAddon.fit();
      } catch {
        // not laid out yet
      }
    };
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(host);
    const enc = new TextEncoder();
    const send = (bytes: Uint8Array) => {
      const ws = sockRef.current;
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(bytes);
    };
    const d1 = term.onData((s) => send(enc.encode(s)));
    // onBinary carries bytes xterm could not express as UTF-16 text (some mouse reports).
    const d2 = term.onBinary((s) => send(Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff)));
    termRef.current = term;
    return () => {
      d1.dispose();
      d2.dispose();
      ro.disconnect();
      termRef.current = null;
      term.dispose();
    };
  }, []);

  useEffect(() => {
    if (!live) {
      setLink('idle');
      return;
    }
    let stopped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;

    const retry = () => {
      if (stopped) return;
      setLink('reconnecting');
      timer = setTimeout(() => void connect(), backoffMs(attempt++));
    };

    const connect = async () => {
      setLink(attempt === 0 ? 'connecting' : 'reconnecting');
      let url: string;
      try {
        url = (await (openRef.current ? openRef.current() : client.call('console.open', { vm: vmId }))).url;
      } catch (e) {
        setError((e as { message?: string }).message ?? String(e));
        retry();
        return;
      }
      if (stopped) return;
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      sockRef.current = ws;
      ws.onopen = () => {
        attempt = 0;
        setError(null);
        termRef.current?.reset();
      };
      ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
        if (typeof ev.data === 'string') {
          try {
            const msg = JSON.parse(ev.data) as { type?: string; connected?: boolean };
            if (msg.type === 'status') setLink(msg.connected ? 'connected' : 'waiting');
          } catch {
            // not a status message: ignore
          }
          return;
        }
        termRef.current?.write(new Uint8Array(ev.data));
      };
      ws.onclose = () => {
        if (sockRef.current === ws) sockRef.current = null;
        retry();
      };
    };

    void connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      const ws = sockRef.current;
      sockRef.current = null;
      if (ws) {
        ws.onclose = null;
        ws.close();
      }
    };
  }, [client, vmId, live]);

  const text: Record<Link, string> = {
    idle: state === null ? 'Loading…' : `The VM is ${state}. Start it to use its serial console.`,
    connecting: 'Connecting…',
    connected: 'Connected',
    waiting: 'Waiting for the VM’s serial port…',
    reconnecting: 'Reconnecting…',
  };

  return (
    <div className={`flex h-full min-h-[20rem] flex-col bg-zinc-900 ${className ?? ''}`} data-testid="serial-console">
      <div ref={hostRef} className="min-h-0 flex-1 p-1" onClick={() => termRef.current?.focus()} />
      <div role="status" className="flex items-center gap-3 border-t border-zinc-700 bg-zinc-900 px-2 py-0.5 text-xs text-zinc-400">
        <span className="inline-flex items-center gap-1.5">
          <span aria-hidden className={`inline-block size-2 rounded-full ${link === 'connected' ? 'bg-emerald-500' : live ? 'bg-amber-500' : 'bg-zinc-500'}`} />
          <span data-testid="console-link">{text[link]}</span>
        </span>
        {error && link !== 'connected' && <span className="text-amber-400">{error}</span>}
      </div>
    </div>
  );
}
