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
// argv: socketPath pidFile seenFile
import { connect, createServer } from 'node:net';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const [socketPath, pidFile, seenFile] = process.argv.slice(2);
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

function send(port, frame) {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(frame.length);
  port.write(Buffer.concat([head, frame]));
}

function forward(from, frame) {
  if (frame.length < 14) return;
  const src = macAt(frame, 6);
  const dst = macAt(frame, 0);
  macs.set(src, from);
  snoop(frame);
  // Group bit set: broadcast or multicast; flood those and destinations not learnt yet.
  const target = frame[0] & 1 ? undefined : macs.get(dst);
  if (target && ports.has(target)) {
    if (target !== from) send(target, frame);
    return;
  }
  for (const p of ports) if (p !== from) send(p, frame);
}

let idleTimer = setTimeout(shutdown, FIRST_CLIENT_MS);

const server = createServer((port) => {
  ports.add(port);
  clearTimeout(idleTimer);
  let buf = Buffer.alloc(0);
  port.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
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
