import { useCallback } from 'react';
import type { ApiClient } from '../../../../electron/api/contract.ts';
import { SerialConsole } from '../../display/SerialConsole.tsx';

// The serial console of a libvirt domain: the same xterm.js view as a library VM's Console
// tab, on the session `hosts.console` opens (the engine's bridge in front of the domain's
// serial unix socket). The host owns the domain's state, so the view takes it as running;
// a refusal (a pty serial, a stopped domain) shows as the console's error line.

export function RemoteConsole({ client, host, domain }: { client: ApiClient; host: string; domain: string }) {
  const open = useCallback(() => client.call('hosts.console', { host, domain }), [client, host, domain]);
  return <SerialConsole vmId={`host:${host}:${domain}`} client={client} vmState="running" open={open} className="h-[28rem]" />;
}
