import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_CHANNEL, buildPreloadApi } from './api.ts';

// Sandboxed preload: the only thing the page gets is window.vireo (see api.ts).

const api = buildPreloadApi(
  (channel, args) => ipcRenderer.invoke(channel, args),
  (listener) => {
    // The IPC event object (which carries `sender`, i.e. ipcRenderer) never reaches the page.
    const handler = (_e: IpcRendererEvent, message: unknown) => listener(message);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler);
    };
  },
);

contextBridge.exposeInMainWorld('vireo', api);
