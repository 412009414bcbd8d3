import { toWireError, VireoError, type WireError } from '../../api/errors.ts';
import type { VmSummary } from '../../api/types.ts';
import { newMac } from '../../engine/library/library.ts';
import { nicsFor, planFile, stepCommand, type VmPlan } from '../../engine/vmfile/plan.ts';
import type { ParsedVmFile } from '../../engine/vmfile/parse.ts';
import type { CliKit } from '../kit.ts';
import { execExitCode } from '../commands/agent.ts';
import { inPool } from './pool.ts';

// `vireo up`: every VM of the file created when absent, started when stopped, provisioned
// when this run created it (or with --provision), at most `parallel` VMs at a time. Only the
// engine API is used, so it works the same against the app, `vireo serve` or in-process.

type Call = CliKit['call'];

export interface StepResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface UpResult {
  vm: string;
  name: string;
  id: string | null;
  /** what this run did: created and started it, started it, resumed it, or found it running */
  action: 'created' | 'started' | 'resumed' | 'running' | 'failed';
  provisioned: StepResult[];
  /** the first provisioning command that failed: the rest did not run */
  failedStep: StepResult | null;
  /** why Vireo could not bring it up */
  error: WireError | null;
}

export interface UpOptions {
  parallel: number;
  provision: boolean;
  /** seconds to wait for the guest agent before provisioning */
  agentTimeoutSec: number;
  /** one line of progress, prefixed with the VM's key */
  log: (vm: string, line: string) => void;
}

export async function upFile(call: Call, f: ParsedVmFile, o: UpOptions): Promise<UpResult[]> {
  const plans = planFile(f);
  const existing = await call('vms.list', {});
  const bases = new Map<string, Promise<unknown>>();
  // Linked clones first: a clone rewrites its base's disk chain, a throwaway only reads it, so
  // the throwaways of a base are made on the chain the clones leave. Reported in file order.
  const order = plans.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p));
  const done = await inPool(order, o.parallel, async ({ p, i }) => ({ i, r: await upVm(call, p, existing.find((v) => v.name === p.name) ?? null, o, bases) }));
  return done.sort((a, b) => a.i - b.i).map((x) => x.r);
}

const rank = (p: VmPlan) => (p.create.method === 'vms.clone' ? 0 : 1);
const baseOf = (p: VmPlan) => (p.create.method === 'vms.clone' ? p.create.args.vm : p.create.method === 'disposables.create' ? p.create.args.from : null);

/**
 * One VM made from a base at a time: a linked clone turns the base's disk into a read-only
 * layer, and two at once on one base race over that rename (the second overlay is made on a
 * backing file that is not there yet). Different bases are still used in parallel.
 */
function oneAtATime<T>(bases: Map<string, Promise<unknown>>, key: string, fn: () => Promise<T>): Promise<T> {
  const next = (bases.get(key) ?? Promise.resolve()).catch(() => {}).then(fn);
  bases.set(key, next);
  return next;
}

async function upVm(call: Call, p: VmPlan, found: VmSummary | null, o: UpOptions, bases: Map<string, Promise<unknown>>): Promise<UpResult> {
  const r: UpResult = { vm: p.key, name: p.name, id: found?.id ?? null, action: 'failed', provisioned: [], failedStep: null, error: null };
  try {
    let created = false;
    if (!found) {
      o.log(p.key, `creating ${p.name}`);
      const base = baseOf(p);
      r.id = base !== null ? await oneAtATime(bases, base, () => createVm(call, p)) : await createVm(call, p);
      created = true;
    } else if (found.broken) {
      throw new VireoError('BROKEN_CONFIG', `${p.name} exists but its vm.json is broken (${found.broken}): repair or delete it, then run up again`);
    }
    const state = found?.state ?? 'stopped';
    if (state === 'running') r.action = 'running';
    else if (state === 'paused') {
      await call('vms.resume', { vm: r.id! });
      r.action = 'resumed';
    } else {
      o.log(p.key, `starting ${p.name}`);
      await call('vms.start', { vm: r.id! });
      r.action = created ? 'created' : 'started';
    }
    if (p.spec.provision.length && (created || o.provision)) await provision(call, p, r, o);
    else o.log(p.key, `${p.name} is ${r.action === 'running' ? 'already running' : 'running'}`);
  } catch (e) {
    r.error = toWireError(e);
    o.log(p.key, `failed: ${r.error.message}`);
  }
  return r;
}

/** Creates and configures the VM; a VM that could not be configured is deleted again. */
async function createVm(call: Call, p: VmPlan): Promise<string> {
  const c = p.create;
  const made = c.method === 'vms.clone' ? await call('vms.clone', c.args) : c.method === 'disposables.create' ? await call('disposables.create', c.args) : await call('vms.create', c.args);
  try {
    const patch: Record<string, unknown> = { ...p.patch };
    if (p.spec.nics) patch.networks = nicsFor(p.spec.nics, made.config?.networks ?? [], freshMac);
    if (Object.keys(patch).length) await call('vms.update', { vm: made.id, patch });
    if (p.growDiskTo !== null) {
      const d0 = made.disks[0];
      if (!d0) throw new VireoError('INVALID_ARGUMENT', `${p.name} has no disk to give the size ${p.spec.disk}: remove disk: from the file for this base`);
      if (d0.virtualSize === null || d0.virtualSize < p.growDiskTo) await call('drives.resize', { vm: made.id, disk: d0.id, size: `${p.growDiskTo}B` }); // bytes: a bare number would be read in the API's default unit
    }
    for (const s of p.shares) await call('shares.add', { vm: made.id, ...s });
    return made.id;
  } catch (e) {
    await call(made.config?.disposable ? 'disposables.discard' : 'vms.delete', { vm: made.id }).catch(() => {});
    throw e;
  }
}

function freshMac(taken: Set<string>): string {
  for (;;) {
    const mac = newMac();
    if (!taken.has(mac)) return mac;
  }
}

async function provision(call: Call, p: VmPlan, r: UpResult, o: UpOptions) {
  o.log(p.key, 'waiting for the guest agent');
  await waitForAgent(call, r.id!, p.name, o.agentTimeoutSec);
  for (const step of p.spec.provision) {
    const c = stepCommand(step);
    o.log(p.key, `$ ${c.shown}`);
    const x = await call('agent.exec', { vm: r.id!, path: c.path, args: c.args, timeoutSec: p.spec.provisionTimeout });
    const done: StepResult = { command: c.shown, exitCode: execExitCode(x), stdout: x.stdout, stderr: x.stderr, timedOut: x.timedOut };
    r.provisioned.push(done);
    for (const line of (x.stdout + x.stderr).split('\n').filter(Boolean)) o.log(p.key, `  ${line}`);
    if (done.exitCode !== 0) {
      r.failedStep = done;
      o.log(p.key, `provisioning stopped: "${c.shown}" ${done.timedOut ? `did not finish within ${p.spec.provisionTimeout} s` : `exited ${done.exitCode}`}`);
      return;
    }
  }
  o.log(p.key, `provisioned (${r.provisioned.length} command${r.provisioned.length === 1 ? '' : 's'})`);
}

/** Polls agent.status (the CLI has no event stream) until the agent answers. */
async function waitForAgent(call: Call, id: string, name: string, timeoutSec: number) {
  const until = Date.now() + timeoutSec * 1000;
  for (;;) {
    const a = await call('agent.status', { vm: id });
    if (a.state === 'connected') return;
    if (Date.now() > until) {
      throw new VireoError('TIMEOUT', `the guest agent of ${name} did not answer within ${timeoutSec} s (${a.reason ?? 'no reason given'}): install qemu-guest-agent in the base, or raise --agent-timeout`, { vm: id });
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

/**
 * The exit code of `up`: 0 when every VM is up and provisioned; 1 when Vireo could not bring
 * one up; else the exit code of the first failed provisioning command (in file order).
 */
export function upExitCode(results: UpResult[]): number {
  if (results.some((r) => r.error)) return 1;
  return results.find((r) => r.failedStep)?.failedStep?.exitCode ?? 0;
}
