// Security policy of the Electron shell as pure functions, so every rule is unit-tested without
// an Electron binary; window.ts, ipc.ts and app.ts only apply them.
import { cspFor as sharedCsp } from '../shared/csp.ts';

/** The renderer is served from this privileged custom scheme, never from file:// (a file://
 *  page may read any local file through subresources, and needs a fuse left open). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'vireo';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

export interface SecureWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  experimentalFeatures: false;
  navigateOnDragDrop: boolean;
  spellcheck: false;
  safeDialogs: true;
}

/**
 * navigateOnDragDrop stays on for one reason: a file dropped on the window becomes a navigation
 * to its file:// URL, which the shell cancels and turns into "open this ISO" (see
 * droppedFile). Navigation itself is always denied, so nothing is ever loaded from it.
 */
export function webPreferencesFor(preloadPath: string): SecureWebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: true,
    spellcheck: false,
    safeDialogs: true,
  };
}

/**
 * Content-Security-Policy sent with every renderer response: the one definition in
 * electron/shared/csp.ts (the server and the page's meta tag use it too), loosened only for
 * the dev server of Forge `start`.
 */
export const cspFor = (devServerUrl?: string): string => sharedCsp({ devServerUrl });

export const CSP = cspFor();

/**
 * Only an app-originated clipboard write is allowed (copying a serial console selection or an
 * error message); camera, microphone, geolocation, notifications (the shell sends its own from
 * the main process), HID/USB/serial, MIDI, pointer lock requests from pages... are all denied.
 */
const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

export function permissionDecision(permission: string, details: { requestingUrl?: string; isMainFrame?: boolean } = {}): boolean {
  if (!ALLOWED_PERMISSIONS.has(permission)) return false;
  if (details.isMainFrame === false) return false;
  return isAppUrl(details.requestingUrl ?? '');
}

/** True when url is our renderer (the app scheme, or the dev server in development). */
export function isAppUrl(url: string, appUrl: string = APP_URL): boolean {
  let u: URL;
  let app: URL;
  try {
    u = new URL(url);
    app = new URL(appUrl);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  if (app.protocol === `${APP_SCHEME}:`) return u.protocol === app.protocol && u.host === app.host;
  return u.origin === app.origin;
}

/**
 * The app is a single page: the only navigation allowed is a reload of our own page (same
 * origin, same path). Links elsewhere go through externalUrlAllowed and the OS browser.
 */
export function navigationAllowed(url: string, appUrl: string = APP_URL): boolean {
  if (!isAppUrl(url, appUrl)) return false;
  try {
    return new URL(url).pathname === new URL(appUrl).pathname;
  } catch {
    return false;
  }
}

/** Links handed to the OS browser: https only, no credentials in the URL. */
export function externalUrlAllowed(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && !u.username && !u.password && u.hostname.length > 0;
  } catch {
    return false;
  }
}

export interface SenderInfo {
  /** URL of the frame that sent the IPC message (null when the frame is gone) */
  frameUrl: string | null | undefined;
  /** whether that frame is its page's main frame (no iframes, ever) */
  isMainFrame: boolean;
  /** id of the BrowserWindow owning the sending webContents (null: not a window of ours) */
  windowId: number | null | undefined;
}

/** Every IPC handler runs this first: main frame of one of our windows, showing our page. */
export function isTrustedSender(sender: SenderInfo, ourWindows: ReadonlySet<number> | readonly number[], appUrl: string = APP_URL): boolean {
  if (!sender.isMainFrame) return false;
  if (sender.windowId == null) return false;
  const ours = ourWindows instanceof Set ? ourWindows.has(sender.windowId) : (ourWindows as readonly number[]).includes(sender.windowId);
  if (!ours) return false;
  return typeof sender.frameUrl === 'string' && isAppUrl(sender.frameUrl, appUrl);
}

export type DroppedFileKind = 'iso' | 'disk';

const DROP_KINDS: Record<string, DroppedFileKind> = {
  '.iso': 'iso',
  '.img': 'disk',
  '.qcow2': 'disk',
  '.vmdk': 'disk',
  '.vdi': 'disk',
  '.vhd': 'disk',
  '.vhdx': 'disk',
  '.raw': 'disk',
};

/**
 * A file dropped on the window arrives as a navigation to its file:// URL. Returns the local
 * path and kind when it is an install ISO or a disk image, else null (the navigation is
 * denied either way).
 */
export function droppedFile(url: string, platform: NodeJS.Platform = process.platform): { path: string; kind: DroppedFileKind } | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'file:' || (u.host !== '' && u.host !== 'localhost')) return null;
  let path = decodeURIComponent(u.pathname);
  if (platform === 'win32') path = path.replace(/^\/([A-Za-z]:)/, '$1').replaceAll('/', '\\');
  const dot = path.lastIndexOf('.');
  const kind = dot >= 0 ? DROP_KINDS[path.slice(dot).toLowerCase()] : undefined;
  return kind ? { path, kind } : null;
}
