// The VM's screen (noVNC) and serial console (xterm.js), each fed by the engine's display
// bridge through a token URL from display.open / console.open.
export { DisplayView, type DisplayViewProps } from './DisplayView.tsx';
export { SerialConsole, type SerialConsoleProps } from './SerialConsole.tsx';
