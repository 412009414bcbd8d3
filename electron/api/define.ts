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
