// The renderer's only door to Vireo. Types come from the contract (type-only imports: the
// renderer bundles no zod and nothing else from electron/); two transports implement them.
import type {
  ApiClient, Args, EventName, EventPayload, MethodName, Result,
} from '../../../electron/api/contract.ts';
import type { WireError } from '../../../electron/api/errors.ts';
import { PAGE_ANSWERS_ID, type PageAnswerMethod } from '../../../electron/shared/page-answers.ts';

export type { ApiClient, Args, EventName, EventPayload, MethodName, Result };
export type { WireError };

/** What Electron's preload exposes as window.vireo: verbs grouped by namespace, plus on(). */
export type VireoBridge = {
  on(event: string, listener: (payload: unknown) => void): () => void;
} & Record<string, unknown>;

declare global {
  interface Window {
    vireo?: VireoBridge;
  }
}

const LOST: WireError = { code: 'INTERNAL', message: 'connection to Vireo lost' };

/** Any rejection (bridge, socket, or code bug) as a WireError, never a raw stack. */
export function asWireError(err: unknown): WireError {
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const e = err as { code: unknown; message: unknown; details?: unknown };
    if (typeof e.code === 'string' && typeof e.message === 'string') {
      // Electron prefixes messages of errors thrown through ipcMain.handle.
      const message = e.message.replace(/^Error invoking remote method '[^']+': (?:Error: )?/, '');
      return e.details === undefined
        ? { code: e.code as WireError['code'], message }
        : { code: e.code as WireError['code'], message, details: e.details };
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}

/**
 * Where the preload put a method's verb: grouped by the part before the FIRST dot, the rest
 * is the verb whole (vms.start → vireo.vms.start, vms.usb.attach → vireo.vms['usb.attach']),
 * exactly as electron/preload/api.ts builds it. Splitting on every dot would send a
 * three-part method to the wrong verb.
 */
export function bridgePath(method: string): [namespace: string, verb: string] {
  const dot = method.indexOf('.');
  return dot < 0 ? [method, ''] : [method.slice(0, dot), method.slice(dot + 1)];
}

/** Electron IPC through the preload's verbs (window.vireo.vms.start(args)). */
export function bridgeClient(bridge: VireoBridge): ApiClient {
  return {
    async call<M extends MethodName>(method: M, args: Args<M>): Promise<Result<M>> {
      const [ns, verb] = bridgePath(method);
      const group = Object.hasOwn(bridge, ns) ? (bridge[ns] as Record<string, (a: unknown) => Promise<unknown>> | undefined) : undefined;
      const fn = group && Object.hasOwn(group, verb) ? group[verb] : undefined;
      if (typeof fn !== 'function') {
        throw { code: 'UNKNOWN_METHOD', message: `the Electron bridge has no method "${method}": update the app` } satisfies WireError;
      }
      try {
        return (await fn(args)) as Result<M>;
      } catch (e) {
        throw asWireError(e);
      }
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) {
      return bridge.on(event, listener as (p: unknown) => void);
    },
  };
}

export interface WsClientOptions {
  /** first reconnect delay; doubles up to maxDelayMs */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** called on every connection state change (the UI shows a banner while offline) */
  onStatus?: (status: ConnectionStatus) => void;
  WebSocketImpl?: typeof WebSocket;
  /**
   * Asked when a connection attempt fails before it opened: does the server answer but refuse
   * this page's access token (a server restarted with a new one)? Then the status is 'refused'.
   */
  isRefused?: () => Promise<boolean>;
}

/** 'refused': the server runs but no longer takes this page's token (restarted with a new one). */
export type ConnectionStatus = 'connecting' | 'open' | 'closed' | 'refused';

export interface WsApiClient extends ApiClient {
  close(): void;
  readonly status: ConnectionStatus;
}

/**
 * JSON frames over one WebSocket: requests carry ids, replies are routed back by id, and
 * events are pushed. On close every pending request fails (the engine may or may not have
 * done the work; the caller decides), and the socket reconnects with backoff.
 */
export function wsClient(url: string, opts: WsClientOptions = {}): WsApiClient {
  const WS = opts.WebSocketImpl ?? WebSocket;
  const minDelay = opts.minDelayMs ?? 250;
  const maxDelay = opts.maxDelayMs ?? 5000;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: WireError) => void }>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const queue: string[] = [];
  let nextId = 1;
  let socket: WebSocket | null = null;
  let delay = minDelay;
  let closedByUs = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let status: ConnectionStatus = 'connecting';

  const setStatus = (s: ConnectionStatus) => {
    status = s;
    opts.onStatus?.(s);
  };

  const connect = () => {
    // A refused token stays said while retrying: only an open connection takes the notice away.
    if (status !== 'refused') setStatus('connecting');
    const ws = new WS(url);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      delay = minDelay;
      setStatus('open');
      for (const frame of queue.splice(0)) ws.send(frame);
    };
    ws.onmessage = (ev: MessageEvent) => {
      let msg: { id?: number; result?: unknown; error?: WireError; event?: string; payload?: unknown };
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (typeof msg.event === 'string') {
        for (const l of listeners.get(msg.event) ?? []) {
          try {
            l(msg.payload);
          } catch (e) {
            console.error(`listener for ${msg.event} failed`, e);
          }
        }
        return;
      }
      if (typeof msg.id !== 'number') return;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(asWireError(msg.error));
      else p.resolve(msg.result);
    };
    ws.onclose = () => {
      socket = null;
      for (const p of pending.values()) p.reject({ ...LOST });
      pending.clear();
      queue.length = 0;
      if (status !== 'refused') setStatus('closed');
      if (closedByUs) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, maxDelay);
      // A WebSocket refused at the handshake tells the page nothing (no HTTP status): ask over HTTP.
      if (!opened && opts.isRefused) {
        void opts.isRefused().then(
          (refused) => refused && !closedByUs && socket?.readyState !== WS.OPEN && setStatus('refused'),
          () => undefined,
        );
      }
    };
  };
  connect();

  return {
    get status() {
      return status;
    },
    call<M extends MethodName>(method: M, args: Args<M>): Promise<Result<M>> {
      if (closedByUs) return Promise.reject({ ...LOST });
      const id = nextId++;
      const frame = JSON.stringify({ id, method, args: args ?? {} });
      return new Promise<Result<M>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (socket && socket.readyState === WS.OPEN) socket.send(frame);
        else queue.push(frame);
      });
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const l = listener as (p: unknown) => void;
      set.add(l);
      return () => {
        set.delete(l);
      };
    },
    close() {
      closedByUs = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    },
  };
}

/** The WebSocket endpoint for a page served by `vireo serve`, carrying its ?token= along. */
export function apiUrlFor(loc: { origin: string; search: string }): string {
  const base = `${loc.origin.replace(/^http/, 'ws')}/api`;
  const token = new URLSearchParams(loc.search).get('token');
  return token ? `${base}?token=${encodeURIComponent(token)}` : base;
}

/**
 * The first answers `vireo serve` wrote into this page (electron/server/page-answers.ts), by
 * method; empty when there are none (Electron, a page saved elsewhere) or they do not parse.
 */
export function readPageAnswers(doc: Pick<Document, 'getElementById'>): Map<string, unknown> {
  const text = doc.getElementById(PAGE_ANSWERS_ID)?.textContent;
  if (!text) return new Map();
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? new Map(Object.entries(parsed)) : new Map();
  } catch {
    return new Map();
  }
}

let pageAnswers: Map<string, unknown> | null = null;

/**
 * The page's own answer to an argument-free call, for a view's first state: the library is
 * then drawn in the first render, not after a render, an effect and an API round trip. It is
 * only a first state: the view still makes its call at once, whose answer replaces it, so
 * nothing that changed since the page was served is lost. Each answer is taken once, by the
 * first view that asks (at start), so no view mounted later starts from it.
 */
export function pageAnswer<M extends PageAnswerMethod>(method: M): Result<M> | undefined {
  pageAnswers ??= typeof document === 'undefined' ? new Map() : readPageAnswers(document);
  const answer = pageAnswers.get(method) as Result<M> | undefined;
  pageAnswers.delete(method);
  return answer;
}

/** Electron (preload present) → IPC bridge; a browser → WebSocket to the serving origin. */
export function pickClient(onStatus?: (s: ConnectionStatus) => void): ApiClient {
  if (typeof window !== 'undefined' && window.vireo) {
    onStatus?.('open');
    return bridgeClient(window.vireo);
  }
  // The page itself, as the browser would load it again: 401 means the server runs and refuses our token.
  const isRefused = () => fetch(`${window.location.pathname}${window.location.search}`, { cache: 'no-store', credentials: 'same-origin' }).then((r) => r.status === 401);
  return wsClient(apiUrlFor(window.location), { isRefused, ...(onStatus ? { onStatus } : {}) });
}
