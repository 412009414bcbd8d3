import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { LimitsInfo } from '../../api/limits-types.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import { switchDir, switchFiles } from '../net/switch/paths.ts';
import { writeFileAtomic } from '../util/fs-atomic.ts';
import { run, runSettled } from '../util/proc.ts';
import type { HelperProcess } from '../vm/helpers.ts';

// Network bandwidth limits (limits.netBytesPerSec): each card, each direction, bytes per second.
// Where the traffic passes through something Vireo can meter, the limit lives there:
// - private cards: Vireo's own switch (resources/net/switch.mjs) shapes the port of the card's
//   MAC with a token bucket; the engine writes one file per MAC into the network's rates folder;
// - bridged cards (Linux, as root): the kernel shapes the card's tap with tc — a tbf qdisc on the
//   tap for what the guest receives, and for what it sends the tap's ingress is redirected
//   (u32 + mirred) to an ifb device of the VM's own with a tbf on it. Shaping both ways rather
//   than policing: a policer drops the excess and TCP then runs well below the limit.
// NAT (slirp, passt) and host-only traffic leaves through QEMU's or passt's own sockets, which
// have no rate limit; those cards say so.

const TC_PATHS = ['/usr/sbin/tc', '/sbin/tc', '/usr/bin/tc'];
const tcBinary = () => TC_PATHS.find((p) => existsSync(p)) ?? null;
const IP_PATHS = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];
const ipBinary = () => IP_PATHS.find((p) => existsSync(p)) ?? 'ip';

export function bridgedShaping(): { available: boolean; reason: string } {
  if (process.platform !== 'linux') return { available: false, reason: 'not possible with bridged cards on this OS: the tap is shaped with Linux tc' };
  if (process.getuid?.() !== 0) return { available: false, reason: "bridged cards: shaping a tap with tc needs root (CAP_NET_ADMIN), and Vireo's engine does not run as root here" };
  if (!tcBinary()) return { available: false, reason: 'bridged cards: tc is not installed (`sudo apt install iproute2`)' };
  return { available: true, reason: "bridged cards: each direction shaped with tc on the card's tap (tbf) and an ifb device of the VM" };
}

export function networkLimitSupport(): LimitsInfo['network'] {
  const bridged = bridgedShaping();
  return [
    { backend: 'slirp', available: false, reason: "not possible with NAT (slirp): QEMU's user-mode network stack has no rate limit and no host interface to shape" },
    { backend: 'passt', available: false, reason: 'not possible with NAT (passt): passt has no bandwidth option and its traffic leaves through ordinary host sockets' },
    { backend: 'bridged', ...bridged },
    process.platform === 'win32'
      ? { backend: 'private', available: false, reason: 'private networks are not available on Windows yet' }
      : { backend: 'private', available: true, reason: "private networks: each direction shaped in Vireo's switch" },
    { backend: 'hostonly', available: false, reason: "not possible with host-only: it rides QEMU's user-mode stack, which has no rate limit" },
  ];
}

/** What a limit on this config's cards cannot do, as sentences (empty when every card is limited or there is no limit). */
export function unlimitedCards(config: VmConfig): string[] {
  if (config.limits.netBytesPerSec === null) return [];
  const bridged = bridgedShaping();
  const out: string[] = [];
  for (const n of config.networks) {
    if (n.mode === 'none' || n.mode === 'private' || (n.mode === 'bridged' && bridged.available)) continue;
    const why = n.mode === 'bridged' ? bridged.reason : n.mode === 'user' ? "NAT traffic leaves through QEMU's or passt's own sockets, which have no rate limit" : "host-only traffic rides QEMU's user-mode stack, which has no rate limit";
    out.push(`card ${n.id} is not limited: ${why}`);
  }
  return out;
}

const macFile = (mac: string) => mac.toLowerCase().replace(/:/g, '-');

/** Writes (or, with no limit, removes) the rate file of each private card's MAC. */
export async function writeSwitchRates(rtRoot: string, config: VmConfig, rate = config.limits.netBytesPerSec): Promise<void> {
  for (const n of config.networks) {
    if (n.mode !== 'private' || !n.network) continue;
    const dir = switchFiles(switchDir(rtRoot), n.network).rates;
    const file = posix.join(dir, macFile(n.mac));
    if (rate === null) {
      await rm(file, { force: true });
      continue;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, `${rate}\n`, 0o600);
  }
}

/** The tap devices a QEMU process holds (bridged cards), from /proc/PID/fdinfo's `iff:` lines. */
export async function tapsOf(pid: number): Promise<string[]> {
  const dir = `/proc/${pid}/fdinfo`;
  const taps: string[] = [];
  for (const fd of await readdir(dir).catch(() => [] as string[])) {
    const text = await readFile(posix.join(dir, fd), 'utf8').catch(() => '');
    const m = /^iff:\s*(\S+)/m.exec(text);
    if (m && !taps.includes(m[1]!)) taps.push(m[1]!);
  }
  return taps;
}

/** The VM's own ifb device for its Nth tap: a name from its id, within Linux's 15 characters. */
export const ifbName = (vmId: string, n: number) => `vfb${createHash('sha256').update(vmId).digest('hex').slice(0, 8)}${n}`;

const tc = (...args: string[]) => run(tcBinary() ?? 'tc', args, { timeoutMs: 10_000, hint: 'tc comes with iproute2' });
const quiet = (cmd: string, ...args: string[]) => runSettled(cmd, args, { timeoutMs: 10_000 });

function tbf(rate: number): string[] {
  // burst: at least a few frames and about 20 ms of traffic; latency bounds the queue.
  const burst = Math.max(16 * 1024, Math.round(rate / 50));
  return ['tbf', 'rate', `${rate * 8}bit`, 'burst', String(burst), 'latency', '100ms'];
}

/** Shapes one tap both ways at `rate` bytes/s, or removes the shaping (null). */
export async function shapeTap(tap: string, ifb: string, rate: number | null): Promise<void> {
  const t = tcBinary() ?? 'tc';
  if (rate === null) {
    await quiet(t, 'qdisc', 'del', 'dev', tap, 'root');
    await quiet(t, 'qdisc', 'del', 'dev', tap, 'ingress');
    await quiet(ipBinary(), 'link', 'del', ifb);
    return;
  }
  // What the guest receives leaves the tap towards QEMU: the tap's own egress.
  await tc('qdisc', 'replace', 'dev', tap, 'root', ...tbf(rate));
  // What it sends enters at the tap's ingress, which cannot queue: redirect it to an ifb and shape there.
  if (!existsSync(`/sys/class/net/${ifb}`)) await run(ipBinary(), ['link', 'add', ifb, 'type', 'ifb'], { timeoutMs: 10_000 });
  await run(ipBinary(), ['link', 'set', ifb, 'up'], { timeoutMs: 10_000 });
  await tc('qdisc', 'replace', 'dev', ifb, 'root', ...tbf(rate));
  await quiet(t, 'qdisc', 'del', 'dev', tap, 'ingress');
  await tc('qdisc', 'add', 'dev', tap, 'handle', 'ffff:', 'ingress');
  await tc('filter', 'add', 'dev', tap, 'parent', 'ffff:', 'protocol', 'all', 'prio', '1', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb);
}

/** Applies `rate` to every bridged card of a running QEMU. */
export async function shapeBridged(vmId: string, pid: number, rate: number | null): Promise<void> {
  for (const [i, tap] of (await tapsOf(pid)).entries()) {
    try {
      await shapeTap(tap, ifbName(vmId, i), rate);
    } catch (e) {
      throw new VireoError('TOOL_FAILED', `could not limit the bridged card's tap ${tap}: ${(e as Error).message}`, { tap });
    }
  }
}

/** Removes the VM's ifb devices (after its QEMU and taps are gone). */
async function removeIfbs(vmId: string): Promise<void> {
  const prefix = ifbName(vmId, 0).slice(0, -1);
  for (const dev of await readdir('/sys/class/net').catch(() => [] as string[])) {
    if (dev.startsWith(prefix)) await quiet(ipBinary(), 'link', 'del', dev);
  }
}

/**
 * The bandwidth limit rides the launch as a helper: start refuses a limit a bridged card
 * cannot get here (before QEMU spawns) and writes the private cards' rates, attach shapes the
 * taps QEMU opened before the guest runs, stop removes the rates and the ifb devices.
 */
export function netRateHelper(entry: LibraryEntry, config: VmConfig, rtRoot: string): HelperProcess {
  const rate = config.limits.netBytesPerSec;
  const bridged = config.networks.some((n) => n.mode === 'bridged');
  const privateCards = config.networks.some((n) => n.mode === 'private');
  return {
    name: 'net-rate',
    async start() {
      if (rate === null) return;
      const b = bridgedShaping();
      if (bridged && !b.available) {
        throw new VireoError('UNSUPPORTED', `"${config.name}" has a network limit that its bridged card cannot get here (${b.reason}); or remove the limit in Settings → Resources`, { field: 'limits.netBytesPerSec' });
      }
      if (privateCards) await writeSwitchRates(rtRoot, config);
    },
    async attach() {
      if (rate === null || !bridged) return;
      const pid = Number((await readFile(entry.paths.pidFile, 'utf8')).trim());
      await shapeBridged(entry.id, pid, rate);
    },
    async stop() {
      if (privateCards) await writeSwitchRates(rtRoot, config, null);
      if (bridged && process.platform === 'linux' && process.getuid?.() === 0) await removeIfbs(entry.id);
    },
  };
}
