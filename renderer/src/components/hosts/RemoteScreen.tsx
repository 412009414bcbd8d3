import { useEffect, useRef, useState } from 'react';
import RFB from '@novnc/novnc';
import type { ApiClient } from '../../../../electron/api/contract.ts';

// The screen of a VM on a host: noVNC on the session `hosts.display` opens (the engine's display
// bridge, behind a one-use token, in front of libvirt's VNC unix socket or, for a Vireo host,
// of the TLS-PSK stream to that VM's VNC). Plainer than a library VM's DisplayView: the other
// host owns the machine, so no keys menu, clipboard or resize here yet.

export function RemoteScreen({ client, host, domain }: { client: ApiClient; host: string; domain: string }) {
  const screenRef = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<'connecting' | 'connected' | 'closed'>('connecting');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const target = screenRef.current;
    if (!target) return;
    let rfb: RFB | null = null;
    let stopped = false;
    void (async () => {
      try {
        const { url } = await client.call('hosts.display', { host, domain });
        if (stopped) return;
        rfb = new RFB(target, url, { shared: true });
        rfb.scaleViewport = true;
        rfb.background = 'rgb(24, 24, 27)';
        rfb.addEventListener('connect', () => setStatus('connected'));
        rfb.addEventListener('disconnect', () => setStatus('closed'));
      } catch (e) {
        setError((e as { message?: string }).message ?? String(e));
        setStatus('closed');
      }
    })();
    return () => {
      stopped = true;
      rfb?.disconnect();
    };
  }, [client, host, domain]);

  return (
    <div className="flex flex-col gap-2">
      <p className="text-xs text-zinc-600 dark:text-zinc-400" aria-live="polite">
        {error ? `Screen not available: ${error}` : status === 'connected' ? 'Connected' : status === 'connecting' ? 'Connecting…' : 'Disconnected'}
      </p>
      <div ref={screenRef} data-testid="remote-screen" className="h-[480px] w-full overflow-hidden rounded bg-zinc-900" />
    </div>
  );
}
