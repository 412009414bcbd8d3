import type { Command } from 'commander';
import type { Args, MethodName, Result } from '../api/contract.ts';

// What a feature area's CLI commands get from main.ts: the program to add commands to, the
// engine call (to the owner, or in-process), printing that honours --json, and the action
// wrapper that closes the session afterwards. An area registers its commands in
// electron/cli/commands/<area>.ts and adds one line to commands/index.ts.
export interface CliKit {
  program: Command;
  call<M extends MethodName>(method: M, args: Args<M>): Promise<Result<M>>;
  /** JSON with --json, else the human form */
  print(result: unknown, human: (r: never) => string): void;
  /** whether this invocation asked for --json */
  json(): boolean;
  action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void>;
  intArg(v: string): number;
  numArg(v: string): number;
}

export type Registrar = (kit: CliKit) => void;
