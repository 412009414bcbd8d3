import { app, BrowserWindow, dialog } from 'electron';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDispatcher, type Dispatch } from '../api/dispatch.ts';
import { defaultResourcesDir, type Engine } from '../engine/index.ts';
import { ownLibrary } from '../engine/owner/open.ts';
import { resolveHome } from '../engine/paths.ts';
import { writeFileAtomic } from '../engine/util/fs-atomic.ts';
import { cliInvocation, userArgs } from './cli-mode.ts';
import { askCloseChoice, chooseFile } from './dialogs.ts';
import { registerIpc, sendEvent } from './ipc.ts';
import { closeDecision, countActive, type CloseAction } from './lifecycle.ts';
import { installMenu } from './menu.ts';
import { notifyJobEnds } from './notify.ts';
import { parseShellSettings, shellPaths, type ShellSettings } from './paths.ts';
import { applySessionPolicy, registerAppScheme, serveRenderer } from './protocol.ts';
import { APP_ORIGIN, APP_URL, droppedFile } from './security.ts';
import type { MenuCommand } from './shell-model.ts';
import { VmTray } from './tray.ts';
import { createMainWindow } from './window.ts';

// Entry of the Electron main process: lifecycle only. Every policy lives in a pure module.

declare const MAIN_WINDOW_VITE_DEV_SERVER_URL: string | undefined;

const devServerUrl = typeof MAIN_WINDOW_VITE_DEV_SERVER_URL === 'string' && MAIN_WINDOW_VITE_DEV_SERVER_URL ? MAIN_WINDOW_VITE_DEV_SERVER_URL : undefined;
const appUrl = devServerUrl ? new URL('/', devServerUrl).href : APP_URL;

/** Shell → renderer messages (menu commands, dropped files). Delivered once the contract has
 *  the `shell.command` event; sendEvent drops names the contract does not list. */
type ShellCommand = { command: MenuCommand | 'open-file' | 'show-vm'; path?: string; kind?: 'iso' | 'disk'; vmId?: string };

const cliArgs = cliInvocation(userArgs(process.argv, app.isPackaged));
if (cliArgs) {
  // Started as the `vireo` command: run the bundled CLI here, no window, no app lock (the CLI
  // talks to a running app's engine itself). It reads process.argv Node's way and exits itself.
  process.argv = [process.execPath, 'vireo', ...cliArgs];
  void import(/* @vite-ignore */ pathToFileURL(join(import.meta.dirname, 'cli.mjs')).href);
} else {
  app.enableSandbox();
  registerAppScheme();
  if (!app.requestSingleInstanceLock()) {
    // Another Vireo owns the library; it gets our argv through 'second-instance'.
    app.quit();
  } else {
    void start();
  }
}

async function start(): Promise<void> {
  await app.whenReady();
  const paths = shellPaths({
    buildDir: import.meta.dirname,
    isPackaged: app.isPackaged,
    resourcesPath: process.resourcesPath,
    appPath: app.getAppPath(),
    platform: process.platform,
  });
  const userData = app.getPath('userData');
  const settingsFile = join(userData, 'shell.json');
  let settings: ShellSettings = parseShellSettings(readJson(settingsFile));

  applySessionPolicy(appUrl, devServerUrl);
  // The wasm/v86 backend's drives are served to the window on app://vireo/wasm/ once the engine is open.
  const opened: { wasm?: Engine['wasm'] } = {};
  if (!devServerUrl) serveRenderer(paths.rendererDir, undefined, () => opened.wasm);

  // The app owns the library (waiting out a one-shot CLI command that holds it); with the app or
  // a serve already owning it, this fails with BUSY naming that process.
  const engine = await ownLibrary({
    role: 'app',
    home: resolveHome(),
    resourcesDir: app.isPackaged ? join(process.resourcesPath, 'resources') : defaultResourcesDir(),
    watch: true,
    // The display bridge must accept WebSockets from our app:// page.
    allowedOrigins: [devServerUrl ? new URL(devServerUrl).origin : APP_ORIGIN],
  }).catch((e: Error) => {
    // Without the library there is nothing to show: say why (BUSY names the owner) and leave.
    dialog.showErrorBox('Vireo cannot open its VM library', e.message);
    app.exit(1);
    throw e;
  });
  opened.wasm = engine.wasm;
  const windows = new Set<number>();
  let main: BrowserWindow | null = null;
  const ids = () => windows as ReadonlySet<number>;
  const tell = (msg: ShellCommand) => sendEvent(ids(), 'shell.command', msg);

  const dispatch: Dispatch = createDispatcher(engine.handlers);
  const unregister = registerIpc({ dispatch, bus: engine.bus, windowIds: ids, appUrl });
  const call = async (method: string, args: unknown) => {
    const out = await dispatch(method, args);
    if (!out.ok) throw out.error;
    return out.result;
  };

  const showWindow = (vmId?: string) => {
    if (!main || main.isDestroyed()) main = openMain();
    if (main.isMinimized()) main.restore();
    main.show();
    main.focus();
    if (vmId) tell({ command: 'show-vm', vmId });
  };
  const openMain = () => {
    const win = createMainWindow({
      preloadPath: paths.preload,
      appUrl,
      userDataDir: userData,
      iconPath: paths.windowIcon,
      onDropFile: (f) => tell({ command: 'open-file', path: f.path, kind: f.kind }),
    });
    const id = win.id;
    windows.add(id);
    win.on('closed', () => {
      windows.delete(id);
      if (main === win) main = null;
    });
    return win;
  };

  const onCommand = async (command: MenuCommand) => {
    showWindow();
    if (command === 'open-iso' || command === 'import-disk') {
      const kind = command === 'open-iso' ? 'iso' : 'disk';
      const path = await chooseFile(main, kind);
      if (path) tell({ command: 'open-file', path, kind });
      return;
    }
    tell({ command });
  };
  installMenu(process.platform, (c) => void onCommand(c));

  let tray: VmTray | null = null;
  try {
    tray = new VmTray(paths.trayIcon, {
      show: showWindow,
      stop: (vm) => void call('vms.stop', { vm }).catch(() => {}),
      quit: () => app.quit(),
    });
  } catch {
    // Some Linux desktops have no tray; the window and menus cover everything it offers.
  }
  const refreshTray = () => {
    if (tray) void (call('vms.list', {}) as Promise<Parameters<VmTray['update']>[0]>).then((v) => tray?.update(v), () => {});
  };
  const offTray = engine.bus.on('vm.state', refreshTray);
  const offChanged = engine.bus.on('vm.changed', refreshTray);
  refreshTray();
  const offNotify = notifyJobEnds(engine.bus, () => showWindow());

  app.on('second-instance', (_e, argv) => {
    showWindow();
    for (const arg of argv.slice(1)) {
      const f = droppedFile(arg.startsWith('/') ? `file://${encodeURI(arg)}` : arg);
      if (f) tell({ command: 'open-file', path: f.path, kind: f.kind });
    }
  });
  app.on('activate', () => showWindow());
  // VMs run detached: with no window the app may still sit in the tray (or the macOS dock).
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin' && !tray) app.quit();
  });

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    e.preventDefault();
    void (async () => {
      let action: CloseAction = 'keep-running';
      try {
        const vms = (await call('vms.list', {})) as Array<{ id: string; state: string }>;
        const running = countActive(vms);
        let decision = closeDecision({ runningVms: running, rememberedChoice: settings.closeChoice });
        if (decision === 'ask') {
          const answer = await askCloseChoice(main, running);
          if (answer.choice === 'cancel') return;
          if (answer.remember) {
            settings = { ...settings, closeChoice: answer.choice };
            await writeFileAtomic(settingsFile, JSON.stringify(settings)).catch(() => {});
          }
          decision = closeDecision({ runningVms: running, rememberedChoice: settings.closeChoice, userChoice: answer.choice });
        }
        if (decision !== 'ask') action = decision;
        await applyCloseAction(action, vms, call);
      } catch {
        // Quitting must work even when the engine is in trouble; detached VMs survive.
      }
      quitting = true;
      offTray();
      offChanged();
      offNotify();
      unregister();
      tray?.destroy();
      await Promise.resolve(engine.dispose()).catch(() => {});
      app.quit();
    })();
  });

  showWindow();
}

async function applyCloseAction(action: CloseAction, vms: Array<{ id: string; state: string }>, call: (m: string, a: unknown) => Promise<unknown>) {
  if (action === 'keep-running') return;
  const active = vms.filter((v) => v.state === 'running' || v.state === 'paused');
  await Promise.allSettled(
    active.map(async (v) => {
      if (action === 'save-state') {
        // Suspend to disk: the VM shows as saved and its next Start resumes it exactly.
        await call('vms.saveState', { vm: v.id });
      } else {
        await call('vms.stop', { vm: v.id });
      }
    }),
  );
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}
