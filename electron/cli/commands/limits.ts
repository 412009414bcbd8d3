import { CommanderError } from 'commander';
import type { HostResources, LimitsInfo } from '../../api/limits-types.ts';
import { formatBytes, parseSize } from '../../shared/size.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo limits VM [--cpu P|none] [--disk-rate SIZE|none] [--disk-iops N|none] [--net-rate SIZE|none]` and
// `vireo host-meter`: the resources area (engine/resources/). Without options `limits` shows
// them; with options it sets them, at once on a running VM where the host allows.

function usage(msg: string): never {
  // main.ts turns a CommanderError into exit 2 without printing it; say why here.
  process.stderr.write(`vireo: ${msg}\n`);
  throw new CommanderError(2, 'vireo.usage', msg);
}

const orNone = <T>(v: string | undefined, parse: (s: string) => T): T | null | undefined => (v === undefined ? undefined : /^(none|off|0)$/i.test(v) ? null : parse(v));

export function formatLimits(r: LimitsInfo): string {
  const l = r.limits;
  const lines = [
    `CPU cap:    ${l.cpuPercent === null ? 'none' : `${l.cpuPercent}% of one host CPU`}${r.cpu.available ? ` (${r.cpu.mechanism}${r.cpu.cgroup ? `, ${r.cpu.cgroup}` : ''})` : ` — not available: ${r.cpu.reason}`}`,
    `Disk rate:  ${l.diskBytesPerSec === null ? 'unlimited' : `${formatBytes(l.diskBytesPerSec)}/s`}`,
    `Disk IOPS:  ${l.diskIops === null ? 'unlimited' : String(l.diskIops)}`,
    `Network:    ${l.netBytesPerSec === null ? 'unlimited' : `${formatBytes(l.netBytesPerSec)}/s per card and direction`}`,
    ...r.network.map((n) => `Network (${n.backend}): ${n.reason}`),
    ...r.pending.map((p) => `pending: ${p}`),
  ];
  return lines.join('\n');
}

export const formatHostMeter = (h: HostResources) =>
  `memory: running VMs ${h.vmsMemoryMiB} MiB configured (${h.vmsResidentMiB} MiB resident); host ${h.memAvailableMiB} MiB available of ${h.memTotalMiB} MiB\n` +
  `CPUs:   ${h.vmsVcpus} vCPUs in ${h.running} running VM${h.running === 1 ? '' : 's'} on ${h.cpus} host CPUs`;

export const registerLimits: Registrar = (kit: CliKit) => {
  kit.program
    .command('limits <vm>')
    .description("show or set a VM's CPU cap, disk and network limits (live on a running VM where the host allows)")
    .option('--cpu <percent>', 'CPU cap in percent of one host CPU (100 = one CPU), or none')
    .option('--disk-rate <size>', 'disk bytes per second for all its disks together (10M = 10 MiB; a bare number is MiB), or none')
    .option('--disk-iops <n>', 'disk I/O operations per second, or none')
    .option('--net-rate <size>', 'network bytes per second for each bridged or private-network card, each direction (1M = 1 MiB; a bare number is MiB), or none')
    .action(kit.action(async (vm: string, o: { cpu?: string; diskRate?: string; diskIops?: string; netRate?: string }) => {
      const int = (what: string) => (s: string) => (/^\d+$/.test(s) && Number(s) > 0 ? Number(s) : usage(`${what} "${s}" is not a positive whole number (or none)`));
      const bytes = (flag: string) => (s: string) => {
        try {
          return parseSize(s, 'M');
        } catch (e) {
          return usage(`${flag} "${s}": ${(e as Error).message}`);
        }
      };
      const patch = {
        cpuPercent: orNone(o.cpu, int('--cpu')),
        diskBytesPerSec: orNone(o.diskRate, bytes('--disk-rate')),
        diskIops: orNone(o.diskIops, int('--disk-iops')),
        netBytesPerSec: orNone(o.netRate, bytes('--net-rate')),
      };
      const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const r = Object.keys(set).length ? await kit.call('limits.set', { vm, ...set }) : await kit.call('limits.get', { vm });
      kit.print(r, formatLimits as (r: never) => string);
    }));
  kit.program
    .command('host-meter')
    .description("what the running VMs take of this host's memory and CPUs")
    .action(kit.action(async () => kit.print(await kit.call('host.resources', {}), formatHostMeter as (r: never) => string)));
};
