// The VM's screen (noVNC) and serial console (xterm.js), each fed by the engine's display
// bridge through a token URL from display.open / console.open; for a wasm/v86 VM both come
// from the emulator running in the page (ByBackend.tsx picks).
export { DisplayView } from './ByBackend.tsx';
export { SerialConsole } from './ByBackend.tsx';
export type { DisplayViewProps } from './DisplayView.tsx';
export type { SerialConsoleProps } from './SerialConsole.tsx';
