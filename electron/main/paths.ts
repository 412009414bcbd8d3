import { join } from 'node:path';

// Where the shell finds its files, packaged (inside resources/) or not (the project folder).
// Pure so the layout electron-builder produces and the one the code expects stay in step.

export interface ShellPaths {
  preload: string;
  rendererDir: string;
  trayIcon: string;
  windowIcon: string;
}

/** buildDir is the folder of main.js (.vite/build); resourcesPath is process.resourcesPath. */
export function shellPaths(o: { buildDir: string; isPackaged: boolean; resourcesPath: string; appPath: string; platform: NodeJS.Platform }): ShellPaths {
  const icons = o.isPackaged ? join(o.resourcesPath, 'icons') : join(o.appPath, 'build', 'icons');
  // Tray icons are small and template-less: 16/22 px on Linux and Windows, 32 px for HiDPI trays.
  const tray = o.platform === 'darwin' ? '16x16.png' : '32x32.png';
  return {
    preload: join(o.buildDir, 'preload.js'),
    rendererDir: join(o.buildDir, '..', 'renderer', 'main_window'),
    trayIcon: join(icons, tray),
    windowIcon: join(icons, '512x512.png'),
  };
}

/** Shell-specific settings kept in userData/shell.json (not VM data: that is the engine's). */
export interface ShellSettings { closeChoice: 'keep-running' | 'save-state' | 'shut-down' | null }

export function parseShellSettings(raw: unknown): ShellSettings {
  const c = raw && typeof raw === 'object' ? (raw as { closeChoice?: unknown }).closeChoice : null;
  return { closeChoice: c === 'keep-running' || c === 'save-state' || c === 'shut-down' ? c : null };
}
