import { resolve } from 'node:path';
import { CommanderError } from 'commander';
import type { AgentExecResult, FileCopyResult } from '../../api/types.ts';
import type { CliKit, Registrar } from '../kit.ts';

// Through the guest agent: `vireo exec VM -- cmd args…` and `vireo cp` in and out.
// exec exits with the guest command's own exit code, so scripts can branch on it:
//   0..255  the command's exit code
//   128+N   the command was killed by signal N (POSIX guests)
//   124     it did not finish within --timeout (like coreutils' timeout); it was killed
//   1       Vireo could not run it (no agent, no such program: the message says which)
export const EXEC_TIMEOUT_EXIT = 124;

/** `VM:/path` → { vm, path }; anything else is a host path. A Windows drive ("C:\…") is a host path. */
function splitRemote(arg: string): { vm: string; path: string } | null {
  const i = arg.indexOf(':');
  if (i <= 0 || /^[A-Za-z]:[\\/]/.test(arg)) return null;
  const path = arg.slice(i + 1);
  return path ? { vm: arg.slice(0, i), path } : null;
}

export const registerAgent: Registrar = (kit: CliKit) => {
  kit.program
    .command('exec <vm> <command...>')
    .description('run a command in the guest through its agent (put -- before the command); exits with its exit code, 124 on --timeout')
    .option('--timeout <seconds>', 'how long the command may run before it is killed (default 300)', kit.numArg)
    .action(kit.action(async (vm: string, command: string[], o: { timeout?: number }) => {
      const [path, ...args] = command;
      const r = await kit.call('agent.exec', { vm, path: path!, args, ...(o.timeout !== undefined ? { timeoutSec: o.timeout } : {}) });
      if (kit.json()) kit.print(r, (x: never) => String(x));
      else {
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
      }
      process.exitCode = execExitCode(r);
    }));

  kit.program
    .command('cp <source> <target>')
    .description('copy a file into or out of a running guest through its agent: cp FILE VM:/path, or cp VM:/path FILE')
    .action(kit.action(async (source: string, target: string) => {
      const from = splitRemote(source);
      const to = splitRemote(target);
      if (!!from === !!to) {
        throw new CommanderError(2, 'vireo.usage', 'name exactly one side as VM:/path in the guest and the other as a host file: vireo cp FILE VM:/path, or vireo cp VM:/path FILE');
      }
      const r = to
        ? await kit.call('agent.copyIn', { vm: to.vm, hostPath: resolve(source), guestPath: to.path })
        : await kit.call('agent.copyOut', { vm: from!.vm, guestPath: from!.path, hostPath: resolve(target) });
      kit.print(r, ((x: FileCopyResult) => (to ? `copied ${x.bytes} bytes to ${to.vm}:${x.guestPath}` : `copied ${x.bytes} bytes to ${x.hostPath}`)) as (r: never) => string);
    }));
};

export function execExitCode(r: AgentExecResult): number {
  if (r.timedOut) return EXEC_TIMEOUT_EXIT;
  if (r.exitCode !== null) return r.exitCode & 0xff;
  if (r.signal !== null) return 128 + r.signal;
  return 1;
}
