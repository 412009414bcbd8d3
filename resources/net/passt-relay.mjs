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
// Here QEMU's side is always read (QEMU never blocks), passt's end is a socketpair made for it
// by spawn (blocking: its short writes complete), and this relay holds what a side cannot take
// yet: passt is not read while QEMU is slow (TCP waits, nothing lost), frames for a slow passt
// are kept up to a cap and dropped whole past it (the stream never loses step).
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

/** passt → QEMU bytes held before passt stops being read */
const TO_QEMU_HIGH = 1024 * 1024;
/** QEMU → passt bytes held before frames for passt are dropped */
const TO_PASST_CAP = 4 * 1024 * 1024;

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

  // passt → QEMU: bytes as they come; passt waits while QEMU has a megabyte to read.
  tap.on('data', (chunk) => {
    qemu.write(chunk);
    if (qemu.writableLength > TO_QEMU_HIGH) tap.pause();
  });
  qemu.on('drain', () => tap.resume());

  // QEMU → passt: whole frames (4-byte big-endian length first), dropped whole past the cap.
  let buf = Buffer.alloc(0);
  qemu.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= 4) {
      const end = at + 4 + buf.readUInt32BE(at);
      if (end > buf.length) break;
      if (tap.writableLength < TO_PASST_CAP) tap.write(buf.subarray(at, end));
      at = end;
    }
    // write() may keep a reference to the slice: copy the partial frame rather than keep buf.
    buf = at === 0 ? buf : Buffer.from(buf.subarray(at));
  });
  qemu.on('close', () => leave(0));
  tap.on('close', () => qemu.destroy());
});
