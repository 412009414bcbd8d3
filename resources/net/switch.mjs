// Vireo's private-network switch: a plain Node program, one per network name, started by the
// engine (electron/engine/net/switch/helper.ts) for the first VM on the network. Each VM's NIC
// is a QEMU `-netdev stream` client on this unix socket; frames travel with a 4-byte
// big-endian length. The switch learns which port a MAC lives behind and floods broadcast,
// multicast and unknown destinations, like an unmanaged Ethernet switch. It runs detached, so
// VMs keep their network when the app quits, and leaves by itself a few seconds after its last
// VM has gone. It also notes the IPv4 address each MAC uses (ARP, IPv4 source) into a JSON
// file, which is how the engine shows the addresses of guests without an agent.
//
// Why a switch and not QEMU's `-netdev socket,mcast=`: multicast needs no helper, but any
// local user (or any host on the LAN, with a wrong TTL or route) can join the group and read
// or inject the traffic. A unix socket in the library's 0700 runtime folder is reachable only
// by the library's owner.
//
// Bandwidth limits (Settings → Resources): RATESDIR holds one file per limited MAC, named after
// it, holding bytes per second. The port a limited MAC lives behind is shaped both ways with a
// token bucket: frames from it stop being read while its bucket is empty (QEMU then holds the
// guest's queue, so nothing is lost); frames to it wait in its queue, and while that queue is
// long the ports sending into it are not read either, so a TCP flow into a limited guest is
// slowed without losses (a tail-dropping queue made a starved TCG guest's flows stall for
// seconds in retransmission back-off). The price is head-of-line blocking: a VM sending to a
// limited VM and to another one at once is slowed for both. Frames are dropped only past a
// hard cap (a flood that backpressure cannot stop in time). One file per MAC lets each engine
// set its own VMs' limits without reading and rewriting a file other engines write too.
//
// argv: socketPath pidFile seenFile [ratesDir]
import { connect, createServer } from 'node:net';
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const [socketPath, pidFile, seenFile, ratesDir] = process.argv.slice(2);
if (!socketPath || !pidFile || !seenFile) {
  process.stderr.write('usage: switch.mjs SOCKET PIDFILE SEENFILE\n');
  process.exit(2);
}
const IDLE_MS = Number(process.env.VIREO_SWITCH_IDLE_MS ?? 3000);
const FIRST_CLIENT_MS = 60_000;
const MAX_FRAME = 65536 + 14;

/** @type {Set<import('node:net').Socket>} */
const ports = new Set();
/** MAC (hex string) → the port it was last seen behind */
const macs = new Map();
/** MAC → IPv4 it used, for the engine */
const seen = {};
let seenDirty = false;

const macAt = (b, off) => b.subarray(off, off + 6).toString('hex').replace(/(..)(?!$)/g, '$1:');
const ipAt = (b, off) => `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;

function snoop(frame) {
  if (frame.length < 34) return;
  const type = frame.readUInt16BE(12);
  let mac = null;
  let ip = null;
  if (type === 0x0806 && frame.length >= 42) {
    mac = macAt(frame, 22);
    ip = ipAt(frame, 28);
  } else if (type === 0x0800) {
    mac = macAt(frame, 6);
    ip = ipAt(frame, 26);
  }
  if (!mac || !ip || ip === '0.0.0.0' || seen[mac] === ip) return;
  seen[mac] = ip;
  seenDirty = true;
}

setInterval(() => {
  if (!seenDirty) return;
  seenDirty = false;
  try {
    writeFileSync(`${seenFile}.tmp`, JSON.stringify(seen), { mode: 0o600 });
    renameSync(`${seenFile}.tmp`, seenFile);
  } catch {
    /* the runtime folder went away: the engine cleans up */
  }
}, 500).unref();

/** MAC → bytes per second, from ratesDir */
let rates = new Map();

/** A token bucket: `tokens` may go below zero (a debt the sender waits out). */
function bucket(rate) {
  // About 50 ms of traffic, at least a few full frames, so slow limits still pass a frame.
  const burst = Math.max(3 * 1518, Math.round(rate / 20));
  return { rate, burst, tokens: burst, at: performance.now() };
}
function refill(b) {
  const now = performance.now();
  b.tokens = Math.min(b.burst, b.tokens + ((now - b.at) / 1000) * b.rate);
  b.at = now;
}

/** The limit of the port a MAC lives behind, from the MACs learnt there. */
function limitPort(port) {
  let rate = null;
  for (const [mac, p] of macs) if (p === port && rates.has(mac)) rate = rates.get(mac);
  const cur = port.vireoLimit;
  if ((cur?.rate ?? null) === rate) return;
  if (rate === null) {
    port.vireoLimit = undefined;
    port.vireoTxWait = false;
    maybeResume(port);
    if (cur) {
      for (const f of cur.queue.splice(0)) rawSend(port, f);
      release(cur.blocked);
    }
    return;
  }
  port.vireoLimit = { rate, tx: bucket(rate), rx: bucket(rate), queue: cur?.queue ?? [], queued: cur?.queued ?? 0, timer: null, blocked: cur?.blocked ?? new Set() };
}

function readRates() {
  if (!ratesDir) return;
  const next = new Map();
  let names = [];
  try {
    names = readdirSync(ratesDir);
  } catch {
    /* no limits yet */
  }
  for (const name of names) {
    if (!/^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/.test(name)) continue;
    const n = Number.parseInt(readFileSync(`${ratesDir}/${name}`, 'utf8').trim(), 10);
    if (Number.isInteger(n) && n > 0) next.set(name.replace(/-/g, ':'), n);
  }
  rates = next;
  for (const p of ports) limitPort(p);
}
readRates();
setInterval(readRates, 500).unref();

function rawSend(port, frame) {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(frame.length);
  port.write(Buffer.concat([head, frame]));
}

/** A limited port's queue: above HIGH its senders wait, below LOW they go on, above MAX frames are dropped. */
const HIGH = 64 * 1024;
const LOW = 16 * 1024;
const MAX_QUEUE = 1024 * 1024;

function drain(port) {
  const l = port.vireoLimit;
  if (!l) return;
  l.timer = null;
  refill(l.rx);
  while (l.queue.length && l.rx.tokens >= 0) {
    const f = l.queue.shift();
    l.queued -= f.length;
    l.rx.tokens -= f.length;
    rawSend(port, f);
  }
  if (l.queued < LOW && l.blocked.size) release(l.blocked);
  if (l.queue.length) l.timer = setTimeout(drain, Math.max(1, Math.ceil((-l.rx.tokens / l.rate) * 1000)), port);
}

function send(port, frame, from) {
  const l = port.vireoLimit;
  if (!l) return rawSend(port, frame);
  if (l.queued + frame.length > MAX_QUEUE) return;
  // The frame is forwarded after this call returns; keep a copy, the input buffer moves on.
  l.queue.push(Buffer.from(frame));
  l.queued += frame.length;
  if (!l.timer) drain(port);
  if (l.queued > HIGH && from && !l.blocked.has(from)) {
    l.blocked.add(from);
    from.pause();
  }
}

/** Whether a limited port's long queue holds this sender back. */
function blockedSomewhere(port) {
  for (const p of ports) if (p.vireoLimit?.blocked.has(port)) return true;
  return false;
}
/** Reads a port again unless its own limit or another long queue still holds it. */
function maybeResume(port) {
  if (!port.destroyed && !port.vireoTxWait && !blockedSomewhere(port)) port.resume();
}
function release(blocked) {
  const list = [...blocked];
  blocked.clear();
  for (const p of list) maybeResume(p);
}

/** Frames read from a limited port spend its tx bucket; in debt, reading pauses until it is paid. */
function spend(port, bytes) {
  const l = port.vireoLimit;
  if (!l) return;
  refill(l.tx);
  l.tx.tokens -= bytes;
  if (l.tx.tokens < 0 && !port.vireoTxWait) {
    port.vireoTxWait = true;
    port.pause();
    setTimeout(() => {
      port.vireoTxWait = false;
      maybeResume(port);
    }, Math.ceil((-l.tx.tokens / l.rate) * 1000));
  }
}

function forward(from, frame) {
  if (frame.length < 14) return;
  const src = macAt(frame, 6);
  const dst = macAt(frame, 0);
  if (macs.get(src) !== from) {
    macs.set(src, from);
    limitPort(from);
  }
  snoop(frame);
  // Group bit set: broadcast or multicast; flood those and destinations not learnt yet.
  const target = frame[0] & 1 ? undefined : macs.get(dst);
  if (target && ports.has(target)) {
    if (target !== from) send(target, frame, from);
    return;
  }
  // Flooded frames do not hold their sender back: one limited port must not stall broadcasts.
  for (const p of ports) if (p !== from) send(p, frame);
}

let idleTimer = setTimeout(shutdown, FIRST_CLIENT_MS);

const server = createServer((port) => {
  ports.add(port);
  clearTimeout(idleTimer);
  let buf = Buffer.alloc(0);
  port.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    spend(port, chunk.length);
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (len > MAX_FRAME) {
        port.destroy();
        return;
      }
      if (buf.length < 4 + len) break;
      forward(port, buf.subarray(4, 4 + len));
      buf = buf.subarray(4 + len);
    }
  });
  const gone = () => {
    if (!ports.delete(port)) return;
    if (port.vireoLimit?.timer) clearTimeout(port.vireoLimit.timer);
    for (const p of ports) p.vireoLimit?.blocked.delete(port);
    if (port.vireoLimit) release(port.vireoLimit.blocked);
    for (const [mac, p] of macs) if (p === port) macs.delete(mac);
    if (ports.size === 0) idleTimer = setTimeout(shutdown, IDLE_MS);
  };
  port.on('close', gone);
  port.on('error', gone);
});

/** The files are this switch's only while its pid is in the pidfile (a successor's are not). */
const mine = () => {
  try {
    return readFileSync(pidFile, 'utf8').trim() === String(process.pid);
  } catch {
    return false;
  }
};

function shutdown() {
  if (ports.size > 0) return;
  // Files first, so an engine starting a VM now sees no switch and starts a new one.
  if (mine()) for (const f of [socketPath, pidFile, seenFile]) rmSync(f, { force: true });
  server.close();
  process.exit(0);
}
process.on('SIGTERM', () => {
  for (const p of ports) p.destroy();
  ports.clear();
  shutdown();
});

// Another switch for this network already answers (two engines started one at once): leave it be.
const probe = connect(socketPath);
probe.once('connect', () => {
  probe.destroy();
  process.exit(0);
});
probe.once('error', () => {
  rmSync(socketPath, { force: true });
  server.listen(socketPath, () => {
    chmodSync(socketPath, 0o600);
    writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  });
});
