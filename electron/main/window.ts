import { BrowserWindow, screen, shell, type Rectangle } from 'electron';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../engine/util/fs-atomic.ts';
import { droppedFile, externalUrlAllowed, navigationAllowed, webPreferencesFor, type DroppedFileKind } from './security.ts';
import { MIN_SIZE, initialBounds, parseWindowState, type WindowState } from './window-state.ts';

// The main window: hardened webPreferences, no navigation away from the app, no new windows
// (https links open in the OS browser), bounds remembered in userData/window-state.json.

export interface MainWindowOptions {
  preloadPath: string;
  appUrl: string;
  userDataDir: string;
  iconPath?: string;
  /** a file dropped on the window (an ISO or a disk image) */
  onDropFile: (file: { path: string; kind: DroppedFileKind }) => void;
}

function loadState(file: string): WindowState {
  try {
    return parseWindowState(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return parseWindowState(null);
  }
}

export function createMainWindow(o: MainWindowOptions): BrowserWindow {
  const stateFile = join(o.userDataDir, 'window-state.json');
  const saved = loadState(stateFile);
  const areas: Rectangle[] = [screen.getPrimaryDisplay(), ...screen.getAllDisplays()].map((d) => d.workArea);
  const win = new BrowserWindow({
    ...initialBounds(saved, areas),
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    title: 'Vireo',
    backgroundColor: '#1f2328',
    ...(o.iconPath ? { icon: o.iconPath } : {}),
    webPreferences: webPreferencesFor(o.preloadPath),
  });
  if (saved.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());

  const wc = win.webContents;
  wc.setWindowOpenHandler(({ url }) => {
    if (externalUrlAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const guard = (e: { preventDefault(): void }, url: string) => {
    if (navigationAllowed(url, o.appUrl)) return;
    e.preventDefault();
    const file = droppedFile(url);
    if (file) o.onDropFile(file);
    else if (externalUrlAllowed(url)) void shell.openExternal(url);
  };
  wc.on('will-navigate', (e) => guard(e, e.url));
  wc.on('will-redirect', (e) => guard(e, e.url));
  wc.on('will-attach-webview', (e) => e.preventDefault());

  let timer: NodeJS.Timeout | undefined;
  const persist = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (win.isDestroyed()) return;
      const state = { bounds: win.getNormalBounds(), maximized: win.isMaximized() };
      writeFileAtomic(stateFile, JSON.stringify(state)).catch(() => {
        // Losing the window position is not worth bothering anyone about.
      });
    }, 500);
  };
  win.on('resize', persist);
  win.on('move', persist);
  win.on('close', () => {
    clearTimeout(timer);
    try {
      const state = { bounds: win.getNormalBounds(), maximized: win.isMaximized() };
      writeFileAtomic(stateFile, JSON.stringify(state)).catch(() => {});
    } catch {
      // window already torn down
    }
  });

  void win.loadURL(o.appUrl);
  return win;
}
