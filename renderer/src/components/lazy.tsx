import { Suspense, lazy, type ReactNode } from 'react';

// Views that are heavy and not needed to show the library: the screen (noVNC) and console
// (xterm.js, and v86 for wasm VMs), a remote host's VM screen (noVNC), the performance graphs
// (uPlot), backups, the new-VM wizard and the settings dialog. Each is its own chunk, fetched when first shown, so the first
// paint of the library parses only what the sidebar and the details' overview need (issue 21).

export const DisplayView = lazy(() => import('../display/index.ts').then((m) => ({ default: m.DisplayView })));
export const SerialConsole = lazy(() => import('../display/index.ts').then((m) => ({ default: m.SerialConsole })));
export const PerformanceView = lazy(() => import('./stats/PerformanceView.tsx').then((m) => ({ default: m.PerformanceView })));
export const BackupsView = lazy(() => import('./backup/BackupsView.tsx').then((m) => ({ default: m.BackupsView })));
export const NewVmWizard = lazy(() => import('./wizard/NewVmWizard.tsx').then((m) => ({ default: m.NewVmWizard })));
export const RemoteScreen = lazy(() => import('./hosts/RemoteScreen.tsx').then((m) => ({ default: m.RemoteScreen })));
export const RemoteConsole = lazy(() => import('./hosts/RemoteConsole.tsx').then((m) => ({ default: m.RemoteConsole })));
export const SettingsDialog = lazy(() => import('./settings/SettingsDialog.tsx').then((m) => ({ default: m.SettingsDialog })));

/** A lazy view's place while its chunk loads (on a local server: a frame or two). */
export function Deferred({ children, label = 'Loading…' }: { children: ReactNode; label?: string }) {
  return (
    <Suspense
      fallback={
        <p role="status" className="p-4 text-sm text-neutral-500 dark:text-neutral-400">
          {label}
        </p>
      }
    >
      {children}
    </Suspense>
  );
}
