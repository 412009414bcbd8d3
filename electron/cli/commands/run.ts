import type { AgentExecResult, VmDetails } from '../../api/types.ts';
import { VireoError } from '../../api/errors.ts';
import type { CliKit, Registrar } from '../kit.ts';
import { execExitCode } from './agent.ts';
import { waitUntil } from './wait.ts';

// `vireo run [--rm] --from BASE [--snapshot S] -- cmd…`: a throwaway VM made from BASE
// (engine/vm/disposable.ts), booted, the command run in it through the guest agent, its exit
// code passed on. With --rm the VM goes when the command ends, fails, times out, or this
// process gets SIGINT/SIGTERM/SIGHUP; killed with SIGKILL, the next engine or `vireo run`
// removes it (it records this process as its owner). Exit codes as `vireo exec`: the command's
// own, 124 when it outlives --timeout, 1 when Vireo could not run it (the VM did not boot, no
// agent answered), 130/143 when interrupted.

export const DEFAULT_BOOT_TIMEOUT_SEC = 600;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

interface RunOpts {
  from: string;
  snapshot?: string;
  rm?: boolean;
  name?: string;
  timeout?: number;
  bootTimeout: number;
}

export const registerRun: Registrar = (kit: CliKit) => {
  kit.program
    .command('run <command...>')
    .description('boot a throwaway VM made from --from, run a command in it through its guest agent (put -- before the command), print its output when it ends, exit with its exit code (124 on --timeout); --rm deletes the VM afterwards, also on Ctrl+C and errors')
    .requiredOption('--from <vm>', 'the base VM (stopped, unless --snapshot): the run gets overlays on its disks, which stay unchanged')
    .option('--snapshot <s>', 'start from a copy of this snapshot of the base (id or unique name) instead of its current disks')
    .option('--rm', 'delete the VM when the command ends (else it is kept and its name printed)')
    .option('--name <name>', 'the throwaway VM\'s name (default: BASE-run-XXXXXX)')
    .option('--timeout <seconds>', 'how long the command may run before it is killed (default 300)', kit.numArg)
    .option('--boot-timeout <seconds>', 'how long the guest may take until its agent answers', kit.numArg, DEFAULT_BOOT_TIMEOUT_SEC)
    .action(kit.action(async (command: string[], o: RunOpts) => {
      process.exitCode = await runDisposable(kit, command, o);
    }));
};

async function runDisposable(kit: CliKit, command: string[], o: RunOpts): Promise<number> {
  const [path, ...args] = command;
  // Leftovers of runs that were killed outright go first, so they never pile up.
  await kit.call('disposables.sweep', {}).catch(() => {});

  let vm: VmDetails | null = null;
  let creating: Promise<VmDetails> | null = null;
  let interrupted: NodeJS.Signals | null = null;
  const discard = async () => {
    const made = vm ?? (await creating?.catch(() => null)) ?? null;
    if (made) await kit.call('disposables.discard', { vm: made.id }).catch((e: unknown) => process.stderr.write(`vireo: could not delete ${made.name}: ${(e as Error).message}\n`));
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    if (!o.rm) {
      process.stderr.write(`vireo: ${sig}: stopping; the VM is kept${vm ? ` as ${vm.name}` : ''}\n`);
      process.exit(SIGNAL_EXIT[sig] ?? 1);
    }
    process.stderr.write(`vireo: ${sig}: deleting the throwaway VM\n`);
    void discard().finally(() => process.exit(SIGNAL_EXIT[sig] ?? 1));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    creating = kit.call('disposables.create', {
      from: o.from,
      ...(o.snapshot ? { snapshot: o.snapshot } : {}),
      ...(o.name ? { name: o.name } : {}),
      ...(o.rm ? { ownerPid: process.pid } : {}),
      start: true,
    });
    vm = await creating;
    if (!kit.json()) process.stderr.write(`vireo: ${vm.name} started from ${o.from}; waiting for its guest agent\n`);
    const ready = await waitUntil(kit, vm.id, { kind: 'agent' }, o.bootTimeout * 1000);
    if (!ready.met) {
      throw new VireoError('TIMEOUT', `no guest agent answered in ${vm.name} within ${o.bootTimeout} s: the guest needs qemu-ga running (or more time: --boot-timeout)`, { vm: vm.id });
    }
    const r: AgentExecResult = await kit.call('agent.exec', { vm: vm.id, path: path!, args, ...(o.timeout !== undefined ? { timeoutSec: o.timeout } : {}) });
    if (interrupted) return await holdUntilExit();
    const code = execExitCode(r);
    if (kit.json()) kit.print({ vm: vm.name, kept: !o.rm, exit: code, ...r }, (x: never) => String(x));
    else {
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      if (!o.rm) process.stderr.write(`vireo: kept ${vm.name}: delete it with \`vireo delete ${vm.name}\`\n`);
    }
    return code;
  } catch (e) {
    // An interrupted run's own calls fail as the VM goes away: the signal is the story.
    if (interrupted) await holdUntilExit();
    throw e;
  } finally {
    if (!interrupted) {
      if (o.rm) await discard();
      for (const s of signals) process.off(s, onSignal);
    }
  }
}

/** After a signal, the handler deletes the VM and exits the process: nothing else may run (the session must stay open). */
const holdUntilExit = () => new Promise<never>(() => {});
