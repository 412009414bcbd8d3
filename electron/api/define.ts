import type { z } from 'zod';

// The contract is data: a method is its argument schema (checked at every transport
// boundary) plus a phantom result type; an event is a name plus a payload type.

export interface MethodDef<A extends z.ZodType = z.ZodType, R = unknown> {
  readonly args: A;
  readonly summary: string;
  /** phantom: never read at run time */
  readonly result: R;
}

/** `method<Result>()(argsSchema, 'what it does')` — curried so Result can be given explicitly. */
export function method<R>() {
  return <A extends z.ZodType>(args: A, summary: string): MethodDef<A, R> => ({
    args,
    summary,
    result: undefined as R,
  });
}

export interface EventDef<P = unknown> {
  readonly summary: string;
  readonly payload: P;
}

export function event<P>(summary: string): EventDef<P> {
  return { summary, payload: undefined as P };
}

/**
 * Who is calling, as the transport knows it. The desktop (Electron IPC), the CLI and the owner
 * socket are `local`: the user acting with their own account, who may do anything it can. A
 * client of `vireo serve` is `web`: possibly remote, confined to `roots` (the media folders the
 * owner configured; the library is always allowed) and to the settings that cannot reach the
 * host, unless the owner started serve with `--allow-extra-args`.
 */
export type Caller = LocalCaller | WebCaller;
export interface LocalCaller {
  readonly kind: 'local';
}
export interface WebCaller {
  readonly kind: 'web';
  /** absolute folders (besides the library) whose files a web client may name */
  readonly roots: readonly string[];
  /** `advanced.extraArgs` may be changed (serve --allow-extra-args) */
  readonly allowExtraArgs: boolean;
}

export const LOCAL_CALLER: LocalCaller = Object.freeze({ kind: 'local' });
