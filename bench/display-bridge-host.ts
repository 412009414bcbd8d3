import { DisplayBridge } from '../electron/engine/display/bridge.ts';

// Runs the bridge in its own process for bench/display.ts, so that it competes with the RFB
// client for CPU the way websockify (a separate Python process) does, not in the same loop.
// Protocol over the IPC channel: {socket} in, {url} out.

const bridge = new DisplayBridge();
process.on('message', (msg: { socket?: string; quit?: boolean }) => {
  if (msg.quit) {
    void bridge.close().then(() => process.exit(0));
    return;
  }
  const socket = msg.socket!;
  void bridge.openSession({ kind: 'vnc', vmId: 'bench', socketPath: () => socket }).then((s) => process.send!({ url: s.url }));
});
process.on('disconnect', () => void bridge.close().then(() => process.exit(0)));
process.send!({ ready: true });
