import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { readVmFile } from '../../engine/vmfile/parse.ts';
import { SHUTDOWN_TIMEOUT_SEC } from '../../shared/states.ts';
import type { CliKit, Registrar } from '../kit.ts';
import { table } from '../output.ts';
import { upExitCode, upFile, type UpResult } from '../vmfile/up.ts';
import { downFile, statusFile, type DownResult, type StatusEntry } from '../vmfile/status-down.ts';

// `vireo up / status / down`: the VMs of a VM file (vireo.yaml) as one set, for scripts and CI.
// Exit codes: 0 all done; 1 an error (the file is malformed: every problem with its line; a VM
// could not be created, started, stopped or removed); 2 usage; for `up`, when every VM came up
// but a provisioning command failed, that command's exit code (124 when it timed out), from
// the first such VM in file order. --json prints the per-VM results either way.

const DEFAULT_FILES = ['vireo.yaml', 'vireo.yml'];
const DEFAULT_PARALLEL = 2;

/** -f FILE, else vireo.yaml (or .yml) in the current folder; resolved here, in the user's folder. */
function fileArg(f: string | undefined): string {
  if (f) return resolve(f);
  return resolve(DEFAULT_FILES.find((n) => existsSync(n)) ?? DEFAULT_FILES[0]!);
}

const progress = (kit: CliKit) => (vm: string, line: string) => {
  if (!kit.json()) process.stderr.write(`[${vm}] ${line}\n`);
};

function fileOption(c: Command): Command {
  return c.option('-f, --file <file>', 'the VM file (default: ./vireo.yaml)');
}

export const registerVmFile: Registrar = (kit: CliKit) => {
  fileOption(kit.program.command('up'))
    .description('create (if absent) and start every VM of a VM file, then run its provisioning commands through the guest agent')
    .option('--parallel <n>', "how many VMs are brought up at once", positive, DEFAULT_PARALLEL)
    .option('--provision', 'run the provisioning commands also for VMs that already existed')
    .option('--agent-timeout <seconds>', 'how long to wait for a guest agent before provisioning', kit.numArg, 300)
    .action(kit.action(async (o: { file?: string; parallel: number; provision?: boolean; agentTimeout: number }) => {
      const f = await readVmFile(fileArg(o.file));
      const results = await upFile(kit.call, f, { parallel: o.parallel, provision: !!o.provision, agentTimeoutSec: o.agentTimeout, log: progress(kit) });
      kit.print({ file: f.file, project: f.project, vms: results }, formatUp as (r: never) => string);
      process.exitCode = upExitCode(results);
    }));

  fileOption(kit.program.command('status'))
    .description("the VMs of a VM file: state, addresses, port forwards ('absent' when not created)")
    .action(kit.action(async (o: { file?: string }) => {
      const f = await readVmFile(fileArg(o.file));
      kit.print({ file: f.file, project: f.project, vms: await statusFile(kit.call, f) }, formatStatus as (r: never) => string);
    }));

  fileOption(kit.program.command('down'))
    .description('stop the VMs of a VM file; disposable ones are removed with their disks')
    .option('--parallel <n>', "how many VMs are handled at once", positive, DEFAULT_PARALLEL)
    .option('--force', 'power off without asking the guests')
    .option('--timeout <seconds>', 'how long a guest may take to shut down', kit.numArg, SHUTDOWN_TIMEOUT_SEC)
    .action(kit.action(async (o: { file?: string; parallel: number; force?: boolean; timeout: number }) => {
      const f = await readVmFile(fileArg(o.file));
      const results = await downFile(kit.call, f, { parallel: o.parallel, force: !!o.force, timeoutSec: o.timeout, log: progress(kit) });
      kit.print({ file: f.file, project: f.project, vms: results }, formatDown as (r: never) => string);
      if (results.some((r) => r.error)) process.exitCode = 1;
    }));
};

/** --parallel: a whole number of at least 1 (commander prints the refusal, naming the option). */
function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${v}" is not a whole number of at least 1`);
  return n;
}

function formatUp(r: { vms: UpResult[] }): string {
  return table([['VM', 'NAME', 'DONE', 'PROVISIONING'], ...r.vms.map((v) => [
    v.vm,
    v.name,
    v.error ? `error: ${v.error.message}` : v.action,
    v.failedStep ? `"${v.failedStep.command}" exited ${v.failedStep.exitCode}` : v.provisioned.length ? `${v.provisioned.length} ok` : '-',
  ])]);
}

function formatStatus(r: { vms: StatusEntry[] }): string {
  return table([['VM', 'NAME', 'STATE', 'ADDRESSES', 'FORWARDS'], ...r.vms.map((v) => [
    v.vm,
    v.name,
    v.state + (v.disposable ? ' (disposable)' : ''),
    v.addresses.flatMap((a) => a.ipv4).join(' ') || '-',
    v.forwards.map((x) => `${x.hostAddress}:${x.hostPort}->${x.guestPort}${x.protocol === 'udp' ? '/udp' : ''}`).join(' ') || '-',
  ])]);
}

function formatDown(r: { vms: DownResult[] }): string {
  return table([['VM', 'NAME', 'DONE'], ...r.vms.map((v) => [v.vm, v.name, v.error ? `error: ${v.error.message}` : v.action])]);
}
