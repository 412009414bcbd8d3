import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { METHOD_NAMES, isEventName, type EventName } from '../api/contract.ts';
import type { Dispatch, DispatchOutcome, EventBus } from '../api/dispatch.ts';
import { EVENT_CHANNEL, channelFor } from '../preload/api.ts';
import { isTrustedSender } from './security.ts';

// IPC transport: one handler per contract method, each checking its sender before the shared
// dispatch() parses the arguments. Replies are DispatchOutcome objects (the preload turns a
// failure into a thrown {code, message, details}).

export interface IpcOptions {
  dispatch: Dispatch;
  bus: EventBus;
  /** ids of the windows allowed to call (our main window; the set may change) */
  windowIds: () => ReadonlySet<number>;
  appUrl: string;
}

function senderOf(e: IpcMainInvokeEvent) {
  const frame = e.senderFrame;
  const win = BrowserWindow.fromWebContents(e.sender);
  return {
    frameUrl: frame?.url ?? null,
    // The main frame is the one without a parent; an iframe must never reach the API.
    isMainFrame: !!frame && frame.parent === null && frame === e.sender.mainFrame,
    windowId: win ? win.id : null,
  };
}

export function registerIpc({ dispatch, bus, windowIds, appUrl }: IpcOptions): () => void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(channelFor(method), async (e, args: unknown): Promise<DispatchOutcome> => {
      if (!isTrustedSender(senderOf(e), windowIds(), appUrl)) {
        return { ok: false, error: { code: 'UNAUTHORIZED', message: `${method}: refused an API call from a frame that is not the Vireo window` } };
      }
      return dispatch(method, args);
    });
  }
  const off = bus.onAny((event, payload) => sendEvent(windowIds(), event, payload));
  return () => {
    off();
    for (const method of METHOD_NAMES) ipcMain.removeHandler(channelFor(method));
  };
}

/** Pushes an event to every window of ours; names outside the contract are dropped. */
export function sendEvent(windowIds: ReadonlySet<number>, event: EventName | string, payload: unknown): void {
  if (!isEventName(event)) return;
  for (const id of windowIds) {
    const win = BrowserWindow.fromId(id);
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, { event, payload });
  }
}
