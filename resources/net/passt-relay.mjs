// Vireo's passt relay: a plain Node program, one per NAT card that uses passt, started detached
// by the engine (electron/engine/net/nat/passt.ts). It connects to the stream socket QEMU
// serves for the card, starts passt as its child on a socketpair (passt's fd 3), and copies the
// frames between the two.
//
// Why not hand passt a connection to QEMU's socket directly (as Vireo did): two bugs meet there.
// - QEMU 7.2's stream *server* never makes the connection it accepts non-blocking, so when the
//   peer's receive buffer is full QEMU blocks in sendmsg() — its main loop, the whole VM.
// - Debian 12's passt (2023-03) writes a batch of frames with MSG_DONTWAIT and then finishes a
//   frame cut by a short write with a plain send(), which only waits on a blocking socket. A
//   connection made by Node is non-blocking (O_NONBLOCK belongs to the open file, passt shares
//   Node's), so that send() fails with EAGAIN, the rest of the frame is lost, the length words
//   go out of step and QEMU drops the link ("oversized packet received"); the download stalls.
//   Made blocking, passt and QEMU then block writing to each other with neither reading.
// Here both sides are always read: QEMU never blocks, and passt never finds its socket full (its
// end is a socketpair made for it by spawn, blocking, so a short write completes). What a side
// cannot take yet waits in a short queue; past it whole frames are dropped, never parts, so the
// stream keeps step and TCP sees an ordinary congested link. Measured against holding passt back
// at 1 MiB (it then drops what MSG_DONTWAIT could not send and recovers slowly): 24 MiB in
// 1.2-1.7 s instead of 3.4-7 s; a long queue (64 MiB) was worse still: seconds of delay, passt's
// ACK timeouts, reset connections.
//
// It leaves when QEMU's socket closes (the VM is gone: passt is stopped) or passt exits; on
// SIGTERM it stops passt first. passt's pid goes to PIDFILE.passt for the engine's checks.
//
// argv: qemuSocket pidFile passtBinary [passt args...] (pidFile: the engine's, holding this relay's pid)
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

const [qemuSocket, pidFile, passtBinary, ...passtArgs] = process.argv.slice(2);
if (!qemuSocket || !pidFile || !passtBinary) {
  process.stderr.write('usage: passt-relay.mjs QEMU_SOCKET PIDFILE PASST [ARGS...]\n');
  process.exit(2);
}

/** passt → QEMU bytes held before frames for QEMU are dropped (a queue, not a buffer: TCP backs off) */
const TO_QEMU_CAP = 512 * 1024;
/** Ethernet frame plus headroom; QEMU sends at most 64 KiB + header */
const MAX_FRAME = 65536 + 14;
/** QEMU → passt bytes held before frames for passt are dropped */
const TO_PASST_CAP = 4 * 1024 * 1024;

/**
 * A 'data' handler cutting a stream into whole frames (4-byte big-endian length, then the
 * frame) for onFrame, which gets header and frame together as one Buffer.
 */
function frames(onFrame) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= 4) {
      const len = buf.readUInt32BE(at);
      if (len > MAX_FRAME) {
        process.stderr.write(`passt-relay: a frame of ${len} bytes: the stream lost step, closing\n`);
        return leave(1);
      }
      const end = at + 4 + len;
      if (end > buf.length) break;
      onFrame(buf.subarray(at, end));
      at = end;
    }
    // write() may keep a reference to a slice: copy the partial frame rather than keep buf.
    buf = at === 0 ? buf : Buffer.from(buf.subarray(at));
  };
}

let passt = null;
let leaving = false;

function leave(code) {
  if (leaving) return;
  leaving = true;
  rmSync(`${pidFile}.passt`, { force: true });
  if (passt && passt.exitCode === null && passt.signalCode === null) {
    passt.once('exit', () => process.exit(code));
    passt.kill('SIGTERM');
    // Within the engine's grace (2 s) before it kills this relay: passt must not be left behind.
    setTimeout(() => {
      passt?.kill('SIGKILL');
      process.exit(code);
    }, 1000).unref();
  } else {
    process.exit(code);
  }
}
process.on('SIGTERM', () => leave(0));
process.on('SIGINT', () => leave(0));

/** Connects to QEMU's socket, retrying for a while: a replaced relay's QEMU accepts again once the old connection is gone. */
function connectQemu() {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve) => {
    const attempt = () => {
      const s = connect(qemuSocket);
      s.once('connect', () => resolve(s));
      s.once('error', (e) => {
        s.destroy();
        if (Date.now() < deadline && !leaving) return void setTimeout(attempt, 50);
        process.stderr.write(`passt-relay: QEMU's socket ${qemuSocket}: ${e.message}\n`);
        leave(1);
      });
    };
    attempt();
  });
}

connectQemu().then((qemu) => {
  qemu.on('error', () => {});
  // stdout/stderr: this relay's log (passt's -q output goes there too); fd 3: the socketpair.
  passt = spawn(passtBinary, passtArgs, { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  passt.once('error', (e) => {
    process.stderr.write(`passt-relay: could not run ${passtBinary}: ${e.message}\n`);
    leave(127);
  });
  passt.once('exit', (code, signal) => {
    if (!leaving) process.stderr.write(`passt-relay: passt exited (${signal ?? `exit code ${code}`})\n`);
    passt = null;
    qemu.destroy();
    leave(code ?? 1);
  });
  if (!passt.pid) return;
  writeFileSync(`${pidFile}.passt`, `${passt.pid}\n`, { mode: 0o600 });
  const tap = passt.stdio[3];
  tap.on('error', () => {});

  // passt → QEMU: whole frames, dropped whole while QEMU has TO_QEMU_CAP bytes to read.
  tap.on('data', frames((frame) => {
    if (qemu.writableLength < TO_QEMU_CAP) qemu.write(frame);
  }));

  // QEMU → passt: whole frames, dropped whole past the cap (passt stuck or flooded).
  qemu.on('data', frames((frame) => {
    if (tap.writableLength < TO_PASST_CAP) tap.write(frame);
  }));
  qemu.on('close', () => leave(0));
  tap.on('close', () => qemu.destroy());
});
