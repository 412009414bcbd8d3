import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VmDetails } from '../../api/types.ts';
import type { PortForward } from '../../api/schemas/vm-config.ts';
import { runInteractive } from '../../engine/util/proc.ts';
import type { CliKit, Registrar } from '../kit.ts';
import { forwardFor } from './wait.ts';

// `vireo ssh VM [-- args]`: the system's ssh to the VM's NAT forward of guest port 22, as the
// seed's user with the seed's generated key when the VM came from a cloud image
// (vm.json cloudInit). The VM's host keys go to a known_hosts file in its own folder: forwards
// reuse host ports across VMs (and every throwaway run has new keys), which in ~/.ssh/known_hosts
// would be "REMOTE HOST IDENTIFICATION HAS CHANGED" each time. Exit code: ssh's own.

/** The part of vm.json's cloud-init seed that `vireo ssh` reads (schemas/cloud-init.ts). */
interface SeedLogin {
  user?: string;
  generatedKeyFile?: string | null;
}

export function sshArgv(d: Pick<VmDetails, 'dir' | 'config'>, f: Pick<PortForward, 'hostAddress' | 'hostPort'>, extra: string[]): string[] {
  const seed = (d.config as { cloudInit?: SeedLogin | null } | null)?.cloudInit ?? null;
  const key = seed?.generatedKeyFile ? join(d.dir, seed.generatedKeyFile) : null;
  // ssh takes a bare IPv6 address as the destination (no brackets, the port goes in -p).
  const host = f.hostAddress;
  return [
    '-p', String(f.hostPort),
    '-o', `UserKnownHostsFile=${join(d.dir, 'ssh_known_hosts')}`,
    '-o', 'StrictHostKeyChecking=accept-new',
    ...(key && existsSync(key) ? ['-i', key, '-o', 'IdentitiesOnly=yes'] : []),
    seed?.user ? `${seed.user}@${host}` : host,
    ...extra,
  ];
}

export const registerSsh: Registrar = (kit: CliKit) => {
  kit.program
    .command('ssh <vm> [args...]')
    .description("ssh into a VM through its NAT forward of guest port 22 (with the cloud-image seed's user and key when it has them); arguments after -- go to ssh (options, or a command to run); exits with ssh's exit code")
    .action(kit.action(async (vm: string, extra: string[]) => {
      const d = await kit.call('vms.get', { vm });
      const f = await forwardFor(kit, vm, 22);
      const argv = sshArgv(d, f, extra);
      if (kit.json()) {
        // Nothing to run interactively with --json: say what would run, for scripts that exec it themselves.
        kit.print({ command: 'ssh', args: argv }, (x: never) => String(x));
        return;
      }
      process.exitCode = await runInteractive('ssh', argv, 'install an OpenSSH client (Debian: apt install openssh-client)');
    }));
};
