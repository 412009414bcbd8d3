import { connect } from 'node:net';
import { open } from 'node:fs/promises';
import { CommanderError } from 'commander';
import { VireoError } from '../../api/errors.ts';
import type { PortForward } from '../../api/schemas/vm-config.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo wait VM --for COND --timeout S`: blocks until the condition holds, for scripts.
// Exit codes: 0 met; 124 not met within --timeout (like coreutils' timeout and `vireo exec`);
// 1 error (no such VM, it stopped, no forward for the port); 2 usage (a malformed --for).
export const WAIT_TIMEOUT_EXIT = 124;
const POLL_MS = 500;
/** how long a forwarded connection must stay open (or the guest must speak) to count as reaching the guest */
export const PORT_SETTLE_MS = 1000;

export type WaitCondition =
  | { kind: 'running' }
  | { kind: 'agent' }
  | { kind: 'ip' }
  | { kind: 'port'; port: number }
  | { kind: 'serial'; regex: RegExp };

export const WAIT_FOR_HELP = [
  'running: the VM is running (QEMU started and the guest not paused)',
  'agent: the guest agent (qemu-ga) answers',
  'ip: the guest agent reports an address that is not loopback or link-local',
  'port:N: guest TCP port N answers through the VM\'s NAT forward to it (the forward\'s host side is connected to on this host; the guest must keep the connection open or send data within 1 s, since user-mode NAT accepts on the host before it knows whether the guest listens)',
  'serial:REGEX: the serial console prints output matching REGEX (JavaScript syntax) from the moment the wait starts; with --whole-log the serial log\'s earlier output counts too (it holds every run of the VM)',
];

export function parseCondition(spec: string): WaitCondition {
  const usage = (why: string) => new CommanderError(2, 'vireo.usage', `--for "${spec}": ${why}; give running, agent, ip, port:N or serial:REGEX`);
  if (spec === 'running' || spec === 'agent' || spec === 'ip') return { kind: spec };
  if (spec.startsWith('port:')) {
    const n = Number(spec.slice(5));
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw usage('the port is not a number from 1 to 65535');
    return { kind: 'port', port: n };
  }
  if (spec.startsWith('serial:')) {
    const src = spec.slice(7);
    if (!src) throw usage('the pattern is empty');
    try {
      return { kind: 'serial', regex: new RegExp(src, 'm') };
    } catch (e) {
      throw usage(`the pattern is not a regular expression (${(e as Error).message})`);
    }
  }
  throw usage('unknown condition');
}

/** The NAT forward of guest TCP port N, or an error naming the command that adds one. */
export async function forwardFor(kit: Pick<CliKit, 'call'>, vm: string, guestPort: number): Promise<PortForward> {
  const r = await kit.call('forwards.list', { vm });
  const f = r.nics.flatMap((n) => n.forwards).find((x) => x.protocol === 'tcp' && x.guestPort === guestPort);
  if (f) return f;
  const hostPort = guestPort === 22 ? 2222 : guestPort < 1024 ? 10000 + guestPort : guestPort;
  throw new VireoError(
    'NOT_FOUND',
    r.nics.length
      ? `"${vm}" has no NAT forward to guest TCP port ${guestPort}: add one with \`vireo net forward add ${vm} tcp:127.0.0.1:${hostPort}:${guestPort}\``
      : `"${vm}" has no NAT network card, so no forward can reach guest port ${guestPort}: give it one in its settings (Network → NAT), then \`vireo net forward add ${vm} tcp:127.0.0.1:${hostPort}:${guestPort}\``,
    { guestPort },
  );
}

/** Connects to the forward's host side; true when the guest side answers or holds the connection. */
export function probePort(f: Pick<PortForward, 'hostAddress' | 'hostPort'>, settleMs = PORT_SETTLE_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: f.hostAddress, port: f.hostPort });
    let timer: NodeJS.Timeout | undefined;
    const done = (ok: boolean) => {
      if (timer) clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => (timer = setTimeout(() => done(true), settleMs)));
    s.once('data', () => done(true));
    s.once('end', () => done(false));
    s.once('close', () => done(false));
    s.once('error', () => done(false));
  });
}

const usableAddress = (a: string) => !/^(127\.|169\.254\.|::1$|fe80:)/i.test(a);

export interface WaitResult {
  met: boolean;
  for: string;
  elapsedMs: number;
  detail: string | null;
}

/**
 * Polls until `cond` holds or the time is up. A VM that is not running fails at once for every
 * condition but `running` (nothing else can come true then).
 */
export async function waitUntil(kit: Pick<CliKit, 'call'>, vm: string, cond: WaitCondition, timeoutMs: number, o: { wholeLog?: boolean; label?: string; onStart?: () => void } = {}): Promise<WaitResult> {
  const t0 = Date.now();
  const label = o.label ?? cond.kind;
  const first = await kit.call('vms.get', { vm });
  const name = first.name;
  const fwd = cond.kind === 'port' ? await forwardFor(kit, vm, cond.port) : null;
  let logOffset = 0;
  let carry = '';
  if (cond.kind === 'serial' && !o.wholeLog) logOffset = await fileSize(first.paths.serialLog);
  o.onStart?.();
  for (;;) {
    const d = await kit.call('vms.get', { vm });
    const running = d.state === 'running';
    if (cond.kind !== 'running' && !['running', 'paused', 'starting'].includes(d.state)) {
      throw new VireoError('INVALID_STATE', `"${name}" is ${d.state}: it cannot become ready for "${label}"; start it first (vireo start ${name})`, { state: d.state });
    }
    let detail: string | null = null;
    switch (cond.kind) {
      case 'running':
        if (running) detail = `pid ${d.runtime.pid}`;
        break;
      case 'agent': {
        const a = running ? await kit.call('agent.status', { vm }) : null;
        if (a?.state === 'connected') detail = `qemu-ga ${a.version ?? ''}`.trim();
        break;
      }
      case 'ip': {
        const a = running ? await kit.call('agent.status', { vm }) : null;
        const addr = a?.addresses.flatMap((i) => [...i.ipv4, ...i.ipv6]).find(usableAddress);
        if (addr) detail = addr;
        break;
      }
      case 'port':
        if (running && (await probePort(fwd!))) detail = `${fwd!.hostAddress}:${fwd!.hostPort} → guest ${cond.port}`;
        break;
      case 'serial': {
        const chunk = await readFrom(d.paths.serialLog, logOffset);
        logOffset += chunk.bytes;
        // Keep the unfinished last line: a match may span two reads.
        const text = carry + chunk.text;
        const m = cond.regex.exec(text);
        if (m) detail = m[0];
        carry = text.slice(Math.max(0, text.lastIndexOf('\n') + 1, text.length - 64 * 1024));
        break;
      }
    }
    const elapsedMs = Date.now() - t0;
    if (detail !== null) return { met: true, for: label, elapsedMs, detail };
    if (elapsedMs >= timeoutMs) return { met: false, for: label, elapsedMs, detail: null };
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, timeoutMs - elapsedMs))));
  }
}

async function fileSize(path: string): Promise<number> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return 0;
  try {
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

/** What the serial log holds past `offset` (latin1: bytes one-to-one; at most 1 MiB per read). */
async function readFrom(path: string, offset: number): Promise<{ text: string; bytes: number }> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return { text: '', bytes: 0 };
  try {
    const size = (await fh.stat()).size;
    const from = size < offset ? 0 : offset; // a truncated log starts over
    const buf = Buffer.alloc(Math.min(size - from, 1024 * 1024));
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    return { text: buf.subarray(0, bytesRead).toString('latin1'), bytes: bytesRead + (from - offset) };
  } finally {
    await fh.close();
  }
}

export const registerWait: Registrar = (kit: CliKit) => {
  kit.program
    .command('wait <vm>')
    .description(`wait until a VM is ready; exit 0 when met, ${WAIT_TIMEOUT_EXIT} on --timeout, 1 on error (the VM stopped, no forward for the port)`)
    .requiredOption('--for <condition>', `what to wait for:\n${WAIT_FOR_HELP.map((l) => `  ${l}`).join('\n')}`)
    .option('--timeout <seconds>', 'give up after this long', kit.numArg, 300)
    .option('--whole-log', 'serial:REGEX also matches what the serial log held before the wait began')
    .action(kit.action(async (vm: string, o: { for: string; timeout: number; wholeLog?: boolean }) => {
      const cond = parseCondition(o.for);
      // On stderr, so stdout stays the answer; also the moment from which serial output counts.
      const onStart = () => process.stderr.write(`vireo: waiting for ${o.for} (up to ${o.timeout} s)\n`);
      const r = await waitUntil(kit, vm, cond, o.timeout * 1000, { wholeLog: o.wholeLog, label: o.for, onStart });
      if (kit.json()) kit.print(r, (x: never) => String(x));
      else if (r.met) process.stdout.write(`${o.for}: met after ${(r.elapsedMs / 1000).toFixed(1)} s (${r.detail})\n`);
      else process.stderr.write(`vireo: ${o.for}: not met within ${o.timeout} s\n`);
      if (!r.met) process.exitCode = WAIT_TIMEOUT_EXIT;
    }));
};
