import type { ApiClient } from '../../../electron/api/contract.ts';
import { V86Console, V86Screen } from '../v86/V86Screen.tsx';
import { DisplayView as NoVncDisplayView, type DisplayViewProps } from './DisplayView.tsx';
import { SerialConsole as BridgeConsole, type SerialConsoleProps } from './SerialConsole.tsx';
import { useVmConfig } from './useVmConfig.ts';

// The Screen and Console tabs by the VM's backend: QEMU's through the engine's bridge (noVNC,
// xterm.js), a wasm/v86 VM's from the emulator running in this page (renderer/src/v86/).

export function DisplayView(props: DisplayViewProps) {
  const config = useVmConfig(props.client, props.vmId);
  if (config && (config.backend as string) === 'wasm/v86') return <V86Screen vmId={props.vmId} vmName={props.vmName} config={config} />;
  return <NoVncDisplayView {...props} />;
}

export function SerialConsole(props: SerialConsoleProps & { client: ApiClient }) {
  const config = useVmConfig(props.client, props.vmId);
  if (config && (config.backend as string) === 'wasm/v86') return <V86Console vmId={props.vmId} />;
  return <BridgeConsole {...props} />;
}
