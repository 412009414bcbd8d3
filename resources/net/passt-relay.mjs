// Vireo's passt keeper: a plain Node program, one per NAT card that uses passt, started detached
// by the engine (electron/engine/net/nat/passt.ts) before QEMU. It listens on the card's unix
// socket; QEMU connects to it as the stream netdev's *client* (`-netdev stream,server=off`), and
// the keeper hands that very connection to passt as its fd 3 (`passt -F 3`). Frames go straight
// between QEMU and passt: the keeper never reads or writes them. It holds the connection so it
// outlives passt: passt 2023-03 cannot change its forwards while it runs, so a change (SIGHUP)
// stops passt and starts a new one on the same connection, and QEMU, whose 7.2 stream client
// cannot reconnect, never sees a close.
//
// Why this shape (measured, 24 MiB downloads by the test guest, bench/nat.ts's setup):
// - passt's natural setup (it listens, QEMU connects) is as fast as slirp here, and nothing
//   stalls: QEMU's client socket is non-blocking (it never blocks its main loop on a full
//   socket) and the socket passt accepts is blocking (Debian 12's passt finishes a frame cut by
//   a short write with a plain send(), which fails with EAGAIN on a non-blocking one). But passt
//   restarts would then close QEMU's connection for good.
// - The relay Vireo had before (QEMU as the server, Node copying every frame, dropping whole
//   frames past a queue) ran at a tenth of that.
// - passt on the keeper's connection with the kernel's default socket buffer (208 KiB) ran at
//   5-11 MB/s where the same with 8 MiB ran at 22-72 MB/s (same load): passt drops frames its
//   MSG_DONTWAIT send cannot place, and recovers by timeouts. passt sets that buffer on the
//   connection it accepts itself, but not on one it is given, and Node cannot set it; so the
//   keeper asks perl (perl-base is part of every Debian system) to, as passt would.
// Two properties of the connection passt needs, both kept here:
// - blocking: Node's accepted socket is O_NONBLOCK, which belongs to the open file that passt
//   would share. libuv makes a child's stdin blocking when it inherits it, so passt (and perl)
//   get the connection as stdin too; the keeper checks the flag and never does I/O on it.
// - frame boundaries at a restart: a passt killed in the middle of a frame (a blocking send or
//   recv finishing one) would leave the stream out of step, and QEMU would drop the link. So
//   passt is stopped (SIGSTOP) and killed only while it waits in epoll (/proc/PID/syscall),
//   where it holds no part of a frame. That file is readable by root only once passt has made
//   itself non-dumpable: for another user the keeper kills passt without the check (and says so
//   in the log), so a forward changed during a bulk download may then cut a frame and QEMU drop
//   the card's link until the VM restarts.
//
// It leaves on SIGTERM (stopping passt first) or when the QEMU that connected is gone (its
// pidfile's pid dead). passt's pid goes to PIDFILE.passt; why a passt exited by itself goes to
// PIDFILE.exit (the engine reports it). passt's binary and argv are read from PIDFILE.args (JSON)
// at each start.
//
// argv: socket pidFile qemuPidFile (pidFile: the engine's, holding this keeper's pid)
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const [socketPath, pidFile, qemuPidFile] = process.argv.slice(2);
if (!socketPath || !pidFile || !qemuPidFile) {
  process.stderr.write('usage: passt-relay.mjs SOCKET PIDFILE QEMU_PIDFILE\n');
  process.exit(2);
}

/** The socket buffer passt asks for on a connection it accepts (the kernel caps it at net.core.[rw]mem_max). */
const SOCKET_BUFFER = 8 * 1024 * 1024;
/** epoll_wait / epoll_pwait / epoll_pwait2 syscall numbers, where passt holds no partial frame. */
const EPOLL_SYSCALLS = process.arch === 'arm64' ? [22, 441] : [232, 281, 441];
const O_NONBLOCK = 0o4000;

const log = (line) => process.stderr.write(`passt-relay: ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let conn = null;
let passt = null;
let leaving = false;
let restarting = Promise.resolve();

function leave(code) {
  if (leaving) return;
  leaving = true;
  for (const f of [`${pidFile}.passt`, `${pidFile}.exit`]) rmSync(f, { force: true });
  if (passt) {
    passt.once('exit', () => process.exit(code));
    passt.kill('SIGKILL');
    setTimeout(() => process.exit(code), 1000).unref();
  } else {
    process.exit(code);
  }
}
process.on('SIGTERM', () => leave(0));
process.on('SIGINT', () => leave(0));

/** The flags of this process's fd, from /proc (Node has no fcntl). */
function fdFlags(fd) {
  const m = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return m ? Number.parseInt(m[1], 8) : null;
}

/** Runs a child with the connection as its stdin (so blocking, see above), and as fd 3 when asked. */
function onConnection(cmd, args, fd3) {
  return spawn(cmd, args, { stdio: [conn, 'inherit', 'inherit', ...(fd3 ? [conn] : [])] });
}

function raiseBuffers() {
  // setsockopt through perl's Socket module: Node can set neither SO_SNDBUF nor SO_RCVBUF on a unix socket.
  const script = 'use Socket; open(my $s, "+<&=", 0) or die "fd 0: $!\\n"; for my $o (SO_SNDBUF, SO_RCVBUF) { setsockopt($s, SOL_SOCKET, $o, pack("i", $ARGV[0])) or die "setsockopt: $!\\n" }';
  return new Promise((resolve) => {
    const p = onConnection('perl', ['-e', script, String(SOCKET_BUFFER)]);
    p.once('error', (e) => {
      log(`perl is not there to raise the socket buffer (${e.message}): passt runs with the kernel's default, slower under load`);
      resolve();
    });
    p.once('exit', (code) => {
      if (code) log(`perl could not raise the socket buffer (exit code ${code}): passt runs with the kernel's default`);
      resolve();
    });
  });
}

function startPasst() {
  rmSync(`${pidFile}.exit`, { force: true });
  let spec;
  try {
    spec = JSON.parse(readFileSync(`${pidFile}.args`, 'utf8'));
  } catch (e) {
    writeFileSync(`${pidFile}.exit`, `passt's arguments (${pidFile}.args) could not be read: ${e.message}\n`);
    return;
  }
  const child = onConnection(spec.binary, spec.args, true);
  passt = child;
  child.once('error', (e) => {
    child.planned = true;
    writeFileSync(`${pidFile}.exit`, `could not run ${spec.binary}: ${e.code === 'ENOENT' ? 'ENOENT (not installed)' : e.message}\n`);
  });
  child.once('exit', (code, signal) => {
    if (passt === child) passt = null;
    if (child.planned || leaving) return;
    const why = signal ? `killed by ${signal}` : `exit code ${code}`;
    log(`passt exited (${why})`);
    rmSync(`${pidFile}.passt`, { force: true });
    writeFileSync(`${pidFile}.exit`, `${why}\n`);
  });
  if (child.pid) writeFileSync(`${pidFile}.passt`, `${child.pid}\n`, { mode: 0o600 });
}

/** Stops passt where it holds no part of a frame (see the header), then waits for its exit. */
async function stopPasst() {
  const child = passt;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.planned = true;
  const gone = new Promise((r) => child.once('exit', r));
  for (let i = 0; ; i++) {
    child.kill('SIGSTOP');
    let nr;
    for (let j = 0; j < 100; j++) {
      const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => '');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T') break;
      await sleep(1);
    }
    try {
      nr = Number.parseInt(readFileSync(`/proc/${child.pid}/syscall`, 'utf8').split(' ')[0], 10);
    } catch (e) {
      if (i === 0) log(`cannot see where passt is (${e.code}); stopping it anyway`);
      break;
    }
    if (EPOLL_SYSCALLS.includes(nr)) break;
    if (i === 500) {
      log('passt stayed busy for 500 tries; stopping it anyway');
      break;
    }
    child.kill('SIGCONT');
    await sleep(2);
  }
  child.kill('SIGKILL');
  await gone;
}

async function watchQemu() {
  let pid = null;
  for (;;) {
    await sleep(1000);
    if (leaving) return;
    const text = await readFile(qemuPidFile, 'utf8').catch(() => null);
    const read = text === null ? NaN : Number.parseInt(text.trim(), 10);
    if (Number.isInteger(read) && read > 0) pid = read;
    if (pid === null) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if (e.code === 'ESRCH') {
        log('QEMU is gone: stopping passt');
        return leave(0);
      }
    }
  }
}

process.on('SIGHUP', () => {
  if (!conn || leaving) return;
  restarting = restarting.then(async () => {
    await stopPasst();
    if (!leaving) startPasst();
  });
});

const server = createServer({ pauseOnConnect: true }, async (socket) => {
  // One QEMU, one connection; closing the server removes the socket file.
  server.close();
  conn = socket;
  socket.on('error', () => {});
  const flags = fdFlags(socket._handle.fd);
  await raiseBuffers();
  startPasst();
  // passt (or perl) inherited it as stdin: libuv made it blocking; check, as passt's short writes need it.
  const after = fdFlags(socket._handle.fd);
  if (after === null || after & O_NONBLOCK) log(`the connection stayed non-blocking (flags ${flags?.toString(8)} → ${after?.toString(8)}): passt may lose step on a full socket`);
  void watchQemu();
});
server.on('error', (e) => {
  log(`cannot listen on ${socketPath}: ${e.message}`);
  leave(1);
});
rmSync(socketPath, { force: true });
server.listen(socketPath, () => log(`listening on ${socketPath}`));
