import { EVENT_NAMES, METHOD_NAMES, type EventName, type MethodName } from '../api/contract.ts';

// The object the preload exposes as window.vireo, built from the contract: one verb per method
// (vms.start → invoke('vireo:vms.start')) plus on(). No ipcRenderer and no generic invoke ever
// reach the page; a compromised page can call contract methods only, each parsed by its schema
// in the main process.

export const IPC_PREFIX = 'vireo:';
export const EVENT_CHANNEL = 'vireo:event';

export const channelFor = (method: MethodName): string => `${IPC_PREFIX}${method}`;

export type Invoke = (channel: string, args: unknown) => Promise<unknown>;
/** Subscribes to the event channel; returns the unsubscribe function. */
export type Subscribe = (listener: (message: unknown) => void) => () => void;

export type Verb = (args?: unknown) => Promise<unknown>;
export type PreloadApi = Record<string, Record<string, Verb> | ((event: string, listener: (payload: unknown) => void) => () => void)>;

/** Errors cross ipcRenderer.invoke as {code, message, details}; see unwrap below. */
export interface IpcReply { ok: boolean; result?: unknown; error?: { code: string; message: string; details?: unknown } }

/**
 * ipcRenderer.invoke turns a thrown error into a plain Error whose message is prefixed with
 * "Error invoking remote method", losing the code. So the main process replies with a
 * DispatchOutcome and this side throws the wire error itself, as a plain object (what the
 * renderer expects: {code, message, details}).
 */
export function unwrap(reply: unknown): unknown {
  const r = reply as IpcReply | null;
  if (r && typeof r === 'object' && r.ok === true) return r.result;
  if (r && typeof r === 'object' && r.ok === false && r.error) {
    const e = r.error;
    throw e.details === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, details: e.details };
  }
  throw { code: 'INTERNAL', message: 'malformed reply from the Vireo main process' };
}

export function buildPreloadApi(invoke: Invoke, subscribe: Subscribe): PreloadApi {
  const api: PreloadApi = {};
  for (const method of METHOD_NAMES) {
    const dot = method.indexOf('.');
    const ns = method.slice(0, dot);
    const verb = method.slice(dot + 1);
    const group = (api[ns] ??= Object.create(null) as Record<string, Verb>) as Record<string, Verb>;
    const channel = channelFor(method);
    group[verb] = async (args?: unknown) => unwrap(await invoke(channel, args ?? {}));
  }
  for (const g of Object.values(api)) Object.freeze(g);

  const events = new Set<string>(EVENT_NAMES);
  api.on = (event: string, listener: (payload: unknown) => void) => {
    if (!events.has(event)) throw { code: 'INVALID_ARGUMENT', message: `unknown event "${String(event).slice(0, 100)}": use one of ${EVENT_NAMES.join(', ')}` };
    if (typeof listener !== 'function') throw { code: 'INVALID_ARGUMENT', message: 'listener must be a function' };
    return subscribe((message) => {
      const m = message as { event?: unknown; payload?: unknown } | null;
      if (m && m.event === event) listener(m.payload);
    });
  };
  return Object.freeze(api);
}

export type { EventName, MethodName };
