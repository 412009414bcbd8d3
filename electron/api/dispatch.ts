import { z } from 'zod';
import { VireoError, toWireError, type WireError } from './errors.ts';
import { LOCAL_CALLER, type Caller } from './define.ts';
import {
  methods, isMethodName, type ApiClient, type Args, type EventName, type EventPayload, type Handlers,
  type MethodName, type Result,
} from './contract.ts';

// The transport-independent core: an untrusted (method, args) pair in, a result or a WireError
// out. Every transport calls dispatch(); none of them calls a handler directly.

export type DispatchOutcome = { ok: true; result: unknown } | { ok: false; error: WireError };

function describeIssues(method: string, err: z.ZodError): VireoError {
  const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  const where = first && first.path ? `${first.path}: ` : '';
  return new VireoError('INVALID_ARGUMENT', `${method}: ${where}${first?.message ?? 'invalid arguments'}`, { issues });
}

/**
 * `caller` is given by the transport, never by the request: the server passes a web caller,
 * IPC, the owner socket and in-process clients pass nothing (local).
 */
export function createDispatcher(handlers: Handlers) {
  return async function dispatch(method: unknown, rawArgs: unknown, caller: Caller = LOCAL_CALLER): Promise<DispatchOutcome> {
    if (!isMethodName(method)) {
      const name = typeof method === 'string' ? method.slice(0, 100) : typeof method;
      return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `unknown method "${name}"` } };
    }
    const parsed = methods[method].args.safeParse(rawArgs ?? {});
    if (!parsed.success) return { ok: false, error: describeIssues(method, parsed.error).toWire() };
    try {
      const handler = handlers[method] as (a: unknown, c: Caller) => Promise<unknown>;
      const result = await handler(parsed.data, caller);
      return { ok: true, result };
    } catch (e) {
      return { ok: false, error: toWireError(e) };
    }
  };
}

export type Dispatch = ReturnType<typeof createDispatcher>;

type Listener = (payload: unknown) => void;

/** A tiny typed event bus: the engine emits, transports forward. */
export class EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly any = new Set<(name: EventName, payload: unknown) => void>();

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const l of this.listeners.get(name) ?? []) safeCall(() => l(payload));
    for (const l of this.any) safeCall(() => l(name, payload));
  }

  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  onAny(listener: (name: EventName, payload: unknown) => void): () => void {
    this.any.add(listener);
    return () => this.any.delete(listener);
  }
}

function safeCall(f: () => void) {
  try {
    f();
  } catch {
    // A listener's failure must not break the emitter or other listeners.
  }
}

/**
 * The in-process transport (CLI, tests): the same dispatch as the others, so arguments are
 * parsed and errors normalised exactly as over IPC or WebSocket.
 */
export function inProcessClient(dispatch: Dispatch, bus: EventBus): ApiClient {
  return {
    async call<M extends MethodName>(m: M, args: Args<M>): Promise<Result<M>> {
      const out = await dispatch(m, args);
      if (!out.ok) throw VireoError.fromWire(out.error);
      return out.result as Result<M>;
    },
    on: (name, listener) => bus.on(name, listener),
  };
}
