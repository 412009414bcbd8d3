#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { WebSocket } from 'ws';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VireoError, toWireError } from '../api/errors.ts';
import { LibrarySession, openLibrary, ownLibrary } from '../engine/owner/open.ts';
import { describeOwner } from '../engine/owner/lock.ts';
import { remoteServeEngine } from './remote-engine.ts';
import { startServer, type ServeEngine } from '../server/server.ts';
import { libraryServeToken } from '../server/token.ts';
import { resolveHome } from '../engine/paths.ts';
import { webCaller } from '../engine/policy/confine.ts';
import { formatHost, formatList, formatTree, formatVm, table } from './output.ts';
import type { MethodName, Args, Result } from '../api/contract.ts';
import { SHUTDOWN_TIMEOUT_SEC } from '../shared/states.ts';
import { ARCHES, BACKENDS } from '../shared/config-enums.ts';
import { BOOT_ONCE } from '../shared/config-enums.ts';
import type { CliKit } from './kit.ts';
import { REGISTRARS } from './commands/index.ts';
import { unattendedCreateArg } from './commands/unattended.ts';
import { cloudCreateArg } from './commands/cloud.ts';
import { APP_VERSION } from '../engine/version.ts';
import { formatDetect } from './detect-text.ts';

// `vireo`: the same engine as the app. When the app or `vireo serve` owns the library, every
// command goes to that owner over its socket; with no owner, this process owns the library
// for the duration of its command (in-process transport; arguments are parsed by the
// contract's schemas exactly as over IPC). Exit codes: 0 ok, 1 error ({code,message} on
// stderr with --json), 2 usage.

// Paths are made absolute here, before they are sent: with the app or `vireo serve` running,
// the command runs in that owner's process, whose working folder is not the user's.
const program = new Command();
let session: LibrarySession | null = null;
let served: (ServeEngine & { dispose(): Promise<void> }) | null = null;
let jsonMode = false;

/**
 * What `serve` fronts: an engine of its own when it can own the library (a one-shot CLI owner
 * is waited for), else the long-lived owner (the app, another serve) over the owner's socket.
 */
async function getEngine(opts: { watch?: boolean; allowedOrigins?: string[] } = {}): Promise<ServeEngine & { dispose(): Promise<void> }> {
  const g = program.opts<{ home?: string }>();
  if (served) return served;
  try {
    served = await ownLibrary({ home: g.home, watch: opts.watch, allowedOrigins: opts.allowedOrigins, role: 'serve' });
  } catch (e) {
    if (!(e instanceof VireoError) || e.code !== 'BUSY') throw e;
    const lib = await openLibrary({ home: g.home, watch: opts.watch, allowedOrigins: opts.allowedOrigins, role: 'serve', mode: 'any' });
    if (lib.kind === 'owner') return (served = lib.engine);
    const remote = remoteServeEngine(lib.client, lib.close);
    process.stderr.write(`${describeOwner(lib.owner)} owns this VM library: serving it through that process\n`);
    remote.onOwnerGone(() => {
      process.stderr.write('vireo: the VM library\'s owner went away: start `vireo serve` again\n');
      process.exit(1);
    });
    served = remote;
  }
  return served;
}

async function call<M extends MethodName>(method: M, args: Args<M>): Promise<Result<M>> {
  const g = program.opts<{ home?: string }>();
  session ??= new LibrarySession({ home: g.home, role: 'cli', mode: 'any' });
  return session.call(method, args);
}

function print(result: unknown, human: (r: never) => string) {
  process.stdout.write((jsonMode ? JSON.stringify(result, null, 2) : human(result as never)) + '\n');
}

/** Wraps a command: runs it, prints, and leaves running VMs alone on the way out. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    jsonMode = !!cmd.optsWithGlobals().json;
    try {
      await fn(...args);
    } finally {
      if (session && !keepAlive) {
        await session.close();
        session = null;
      }
    }
  };
}
let keepAlive = false;

program
  .name('vireo')
  .description('Vireo: virtual machines with QEMU, from the command line')
  .version(APP_VERSION, '-V, --version', 'print the version')
  .option('--home <dir>', 'VM library folder (default: $VIREO_HOME, else the app-data folder)')
  .option('--json', 'print machine-readable JSON')
  .showHelpAfterError()
  .exitOverride();

program.command('host').description('host, QEMU, accelerator verdict, firmware and TPM').option('--refresh', 're-run discovery and the accelerator self-test')
  .action(action(async (o: { refresh?: boolean }) => print(await call('host.info', { refresh: o.refresh }), formatHost)));

program.command('list').alias('ls').description('list VMs')
  .action(action(async () => print(await call('vms.list', {}), formatList)));

program.command('create <name>').description('create a VM')
  .option('--iso <file>', 'install ISO (its OS is detected)')
  .option('--import-disk <file>', 'import an existing disk image (vmdk, vdi, vhdx, raw, qcow2)')
  .option('--os <id>', 'OS id (see `vireo os list`), overrides detection')
  .option('--cpus <n>', 'virtual CPUs', intArg)
  .option('--memory <size>', 'memory, e.g. 2G or 512M')
  .option('--disk <size>', 'disk size, e.g. 20G')
  .addOption(new Option('--accel <a>', 'accelerator').choices(['auto', 'kvm', 'hvf', 'whpx', 'tcg']))
  .addOption(new Option('--profile <p>', 'device profile').choices(['modern', 'legacy']))
  .addOption(new Option('--firmware <f>', 'firmware').choices(['bios', 'uefi']))
  .addOption(new Option('--arch <a>', 'guest architecture (default: the ISO\'s, else x86_64)').choices([...ARCHES]))
  .addOption(new Option('--backend <b>', 'emulator: qemu, or wasm/v86 (a 32-bit PC run in the window or browser page)').choices([...BACKENDS]))
  .option('--secure-boot', 'UEFI Secure Boot')
  .option('--no-secure-boot', 'no Secure Boot')
  .option('--tpm', 'TPM 2.0 (swtpm)')
  .option('--no-tpm', 'no TPM')
  .option('--start', 'start it after creation')
  .action(action(async (name: string, o: Record<string, unknown>, cmd: Command) => {
    const src = (k: string) => cmd.getOptionValueSource(k) === 'cli';
    const r = await call('vms.create', {
      name,
      ...(o.iso ? { iso: resolve(String(o.iso)) } : {}),
      ...(o.importDisk ? { importDisk: resolve(String(o.importDisk)) } : {}),
      ...(o.os ? { os: String(o.os) } : {}),
      ...(o.cpus !== undefined ? { cpus: o.cpus as number } : {}),
      ...(o.memory ? { memory: String(o.memory) } : {}),
      ...(o.disk ? { disk: String(o.disk) } : {}),
      ...(o.accel ? { accel: o.accel as 'auto' } : {}),
      ...(o.profile ? { profile: o.profile as 'modern' } : {}),
      ...(o.firmware ? { firmware: o.firmware as 'bios' } : {}),
      ...(o.arch ? { arch: o.arch as 'aarch64' } : {}),
      ...(o.backend ? { backend: o.backend as 'qemu' } : {}),
      ...(src('secureBoot') ? { secureBoot: !!o.secureBoot } : {}),
      ...(src('tpm') ? { tpm: !!o.tpm } : {}),
      // First: with --cloud-image it takes --user/--password/--hostname for the seed (commands/cloud.ts).
      ...(await cloudCreateArg(o)),
      ...(await unattendedCreateArg(o)),
      ...(o.start ? { start: true } : {}),
    });
    print(r, formatVm);
  }));

program.command('show <vm>').description('show a VM: state, pid, serial log, disks')
  .action(action(async (vm: string) => print(await call('vms.get', { vm }), formatVm)));

program.command('start <vm>').description('start a VM (it keeps running after this command exits)')
  .addOption(new Option('--boot-once <device>', 'boot from this device this time only (the saved boot order stays)').choices([...BOOT_ONCE]))
  .option('--force', "start even when the host's available memory does not cover it (refused otherwise, exit 1)")
  .action(action(async (vm: string, o: { bootOnce?: 'cdrom'; force?: boolean }) => {
    // Overcommit warnings (vCPUs, or memory with --force) go to stderr; the engine refuses memory it cannot cover.
    const oc = await call('vms.overcommit', { vm });
    // Without --force the engine's refusal says the memory sentence; the others are warnings.
    if (!jsonMode) for (const w of oc.memory.over && !o.force ? oc.warnings.slice(1) : oc.warnings) process.stderr.write(`vireo: warning: ${w}\n`);
    print(await call('vms.start', { vm, ...(o.bootOnce ? { bootOnce: o.bootOnce } : {}), ...(o.force ? { overcommit: true } : {}) }), (v: { name: string; runtime: { pid: number } }) => `${v.name} is running (pid ${v.runtime.pid})`);
  }));

program.command('stop <vm>').description('shut down (ACPI), then quit, then kill; --force powers off at once')
  .option('--force', 'power off without asking the guest')
  .option('--timeout <seconds>', 'how long the guest may take to shut down', numArg, SHUTDOWN_TIMEOUT_SEC)
  .action(action(async (vm: string, o: { force?: boolean; timeout: number }) =>
    print(await call('vms.stop', { vm, force: o.force, timeoutSec: o.timeout }), (v: { name: string; state: string }) => `${v.name} is ${v.state}`)));

for (const verb of ['pause', 'resume', 'reset'] as const) {
  program.command(`${verb} <vm>`).description(`${verb} a running VM`)
    .action(action(async (vm: string) => print(await call(`vms.${verb}`, { vm }), (v: { name: string; state: string }) => `${v.name} is ${v.state}`)));
}

program.command('save <vm>').description("save state: the VM's memory and devices go to a file in its folder and it stops; `vireo start` resumes it exactly")
  .action(action(async (vm: string) => print(await call('vms.saveState', { vm }), (v: { name: string; state: string }) => `${v.name} is saved: vireo start ${v.name} resumes it`)));

program.command('discard-state <vm>').description('forget a saved state: the VM is stopped, as if powered off when it was saved')
  .action(action(async (vm: string) => print(await call('vms.discardState', { vm }), (v: { name: string; state: string }) => `${v.name} is ${v.state}: its saved state was discarded`)));

program.command('delete <vm>').alias('rm').description('delete a stopped VM and its files')
  .option('--keep-disks', 'keep its disks, UEFI variables and TPM state (moved to <home>/kept/)')
  .action(action(async (vm: string, o: { keepDisks?: boolean }) =>
    print(await call('vms.delete', { vm, ...(o.keepDisks ? { keepDisks: true } : {}) }), (r: { deleted: string; keptIn?: string }) =>
      r.keptIn ? `deleted ${r.deleted}; its disks are kept in ${r.keptIn}` : `deleted ${r.deleted}`)));

program.command('screenshot <vm> <out.png>').description('save the VM screen as PNG')
  .action(action(async (vm: string, out: string) => {
    const r = await call('vms.screenshot', { vm });
    await writeFile(out, Buffer.from(r.png, 'base64'));
    print({ file: resolve(out) }, (x: { file: string }) => `saved ${x.file}`);
  }));

program.command('console <vm>').description('attach to the serial console (Ctrl+] to detach)')
  .action(action(async (vm: string) => {
    // The same route as the app's console view (a token-gated WebSocket), so it works against
    // an engine in this process and against the library's owner alike.
    const session = await call('console.open', { vm });
    await attachConsole(session.url);
  }));

program.command('detect-os <iso>').description('detect the OS on an install ISO')
  .action(action(async (iso: string) => print(await call('os.detect', { path: resolve(iso) }), formatDetect)));

const os = program.command('os').description('the OS table');
os.command('list [query]').description('search the OS list').action(action(async (query: string | undefined) =>
  print(await call('os.list', { query }), (l: Array<{ id: string; name: string }>) => table([['ID', 'NAME'], ...l.map((o) => [o.id, o.name])]))));

const disk = program.command('disk').description('disk images (qemu-img)');
disk.command('create <file> <size>').option('--format <f>', 'qcow2 or raw', 'qcow2').action(action(async (file: string, size: string, o: { format: 'qcow2' | 'raw' }) =>
  print(await call('disks.create', { path: resolve(file), size, format: o.format }), imageLine)));
disk.command('info <file>').action(action(async (file: string) => print(await call('disks.info', { path: resolve(file) }), imageLine)));
disk.command('resize <file> <size>').option('--shrink', 'allow shrinking (loses data past the end)').action(action(async (file: string, size: string, o: { shrink?: boolean }) =>
  print(await call('disks.resize', { path: resolve(file), size, shrink: o.shrink }), imageLine)));
disk.command('convert <file> <output>').description('convert vmdk/vdi/vhdx/raw to qcow2').action(action(async (file: string, output: string) =>
  print(await call('disks.convert', { path: resolve(file), output: resolve(output) }), imageLine)));
disk.command('check <file>').action(action(async (file: string) => {
  const r = await call('disks.check', { path: resolve(file) });
  print(r, (x: { ok: boolean; corruptions: number; leaks: number }) => (x.ok ? 'no errors found' : `${x.corruptions} corruptions, ${x.leaks} leaked clusters`));
  if (!r.ok) process.exitCode = 1;
}));

const snap = program.command('snapshot').description('snapshots (live with RAM when running, offline when stopped)');
snap.command('list <vm>').action(action(async (vm: string) => print(await call('snapshots.list', { vm }), formatTree)));
snap.command('save <vm> <name>').option('-d, --description <text>').action(action(async (vm: string, name: string, o: { description?: string }) =>
  print(await call('snapshots.save', { vm, name, description: o.description }), formatTree)));
snap.command('restore <vm> <snapshot>').action(action(async (vm: string, s: string) => print(await call('snapshots.restore', { vm, snapshot: s }), formatTree)));
snap.command('delete <vm> <snapshot>').action(action(async (vm: string, s: string) => print(await call('snapshots.delete', { vm, snapshot: s }), formatTree)));
snap.command('rename <vm> <snapshot> <name>').option('-d, --description <text>').action(action(async (vm: string, s: string, name: string, o: { description?: string }) =>
  print(await call('snapshots.rename', { vm, snapshot: s, name, description: o.description }), formatTree)));

program.command('clone <vm> <name>').description('clone a VM (full copy, or --linked overlay); vireo clone TEMPLATE NAME --from-template makes a VM from a template')
  .option('--linked', 'linked clone: a qcow2 overlay on a read-only base (from a snapshot: a base shared by its linked clones)')
  .option('--from-snapshot <s>', 'clone the state of a snapshot (name or id)')
  .option('--with-snapshots', 'full clone that keeps the whole snapshot tree')
  .option('--from-template', 'a new VM from a template: a linked clone of its current state')
  .action(action(async (vm: string, name: string, o: { linked?: boolean; fromSnapshot?: string; withSnapshots?: boolean; fromTemplate?: boolean }) =>
    print(await call('vms.clone', { vm, name, linked: o.linked, fromSnapshot: o.fromSnapshot, withSnapshots: o.withSnapshots, fromTemplate: o.fromTemplate }), formatVm)));

program.command('template <vm> <on|off>').description('mark a VM as a template (not startable; vireo clone --from-template makes VMs from it) or turn that off')
  .action(action(async (vm: string, onOff: string) => {
    if (onOff !== 'on' && onOff !== 'off') throw new VireoError('INVALID_ARGUMENT', `vireo template: say on or off, not "${onOff}"`, { field: 'on|off' });
    print(await call('vms.update', { vm, patch: { template: onOff === 'on' } }), formatVm);
  }));

program.command('serve').description('serve the app in a browser (headless hosts)')
  .option('--host <addr>', 'address to bind', '127.0.0.1')
  .option('--port <n>', 'port (0: any free one)', intArg, 8080)
  .option('--token <t>', "access token for this run (default: the library's own, kept in <home>/serve-token, mode 0600)")
  .option('--rotate-token', "replace the library's stored token with a new one: links printed before stop working")
  .option('--allow-host <name>', 'another Host name the server answers to (a DNS name, a proxy); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--media <dir>', 'a folder whose ISOs and disk images browser clients may use (default: your home folder); repeatable', mediaArg, [] as string[])
  .option('--allow-extra-args', 'let browser clients set extra QEMU arguments (they can then reach any file this account can)')
  .option('--rotate-pairing', "replace the library's pairing secret (<home>/pairing-secret) that other Vireo engines move VMs here with: hosts paired before must be added again")
  .action(action(async (o: { host: string; port: number; token?: string; rotateToken?: boolean; allowHost: string[]; media: string[]; allowExtraArgs?: boolean; rotatePairing?: boolean }) => {
    keepAlive = true;
    const loopback = /^(127\.|::1$|localhost$)/.test(o.host);
    // Screens and consoles travel through the server's own port and origin, so the bridge's
    // loopback listener needs no extra origin for a remote browser.
    const eng = await getEngine({ watch: true });
    const staticDir = join(repoRoot(), '.vite', 'renderer', 'main_window');
    const caller = webCaller({ media: o.media, allowExtraArgs: o.allowExtraArgs });
    if (o.token && o.rotateToken) throw new VireoError('INVALID_ARGUMENT', 'vireo serve: --token and --rotate-token exclude each other: --token uses the one given for this run only', { field: 'token' });
    const token = o.token ?? (await libraryServeToken(resolveHome(program.opts<{ home?: string }>().home), { rotate: o.rotateToken })).token;
    const server = await startServer({ engine: eng, host: o.host, port: o.port, token, staticDir, allowedHosts: o.allowHost, caller });
    if (!loopback) process.stderr.write(`warning: serving on ${o.host}: anyone who can reach it and has the token controls your VMs\n`);
    process.stdout.write(`Vireo is serving at ${server.url}\n`);
    // Another Vireo engine adds this one as a host with it, to move VMs here (engine/migrate/).
    const pairing = 'migrations' in eng && eng.migrations ? await eng.migrations.secret({ rotate: o.rotatePairing }) : null;
    if (pairing) process.stdout.write(`Pair another Vireo with: vireo host add NAME vireo://${loopback || !['0.0.0.0', '::'].includes(server.host) ? (server.host.includes(':') ? `[${server.host}]` : server.host) : 'THIS-ADDRESS'}:${server.port} --secret ${pairing}\n`);
    const stop = async () => {
      // Viewers and sockets are closed at once (server.close); should anything still hold on,
      // the process goes anyway: VMs run detached and a later engine re-attaches.
      setTimeout(() => process.exit(0), 5000).unref();
      await server.close();
      await eng.dispose(); // VMs keep running; a new engine re-attaches
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }));

const kit: CliKit = { program, call, print, json: () => jsonMode, action, intArg, numArg };
for (const register of REGISTRARS) register(kit);

function imageLine(i: { path: string; format: string; virtualSize: number }) {
  return `${i.path}: ${i.format}, ${i.virtualSize} bytes`;
}

/** A --media folder: it must exist now, or its files would silently be refused later. */
function mediaArg(v: string, acc: string[]): string[] {
  const dir = resolve(v);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new InvalidArgumentError(`${dir} is not a folder`); // commander prints it, naming the option
  return [...acc, dir];
}
function intArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CommanderError(2, 'vireo.usage', `"${v}" is not a whole number`);
  return n;
}
function numArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CommanderError(2, 'vireo.usage', `"${v}" is not a number`);
  return n;
}

function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function attachConsole(url: string): Promise<void> {
  return new Promise((resolveDone, reject) => {
    const ws = new WebSocket(url);
    const stdin = process.stdin;
    let opened = false;
    ws.once('error', (e) => {
      if (!opened) reject(new VireoError('IO_ERROR', `cannot attach to the serial console: ${e.message}`));
    });
    ws.once('open', () => {
      opened = true;
      process.stderr.write('Connected to the serial console. Press Ctrl+] to detach.\n');
      if (stdin.isTTY) stdin.setRawMode(true);
      stdin.resume();
      stdin.on('data', (b: Buffer) => {
        if (b.includes(0x1d)) {
          ws.close();
          return;
        }
        ws.send(b);
      });
    });
    // Binary frames are the guest's bytes; text frames are the bridge's status notes.
    ws.on('message', (data, isBinary) => {
      if (isBinary) process.stdout.write(data as Buffer);
    });
    ws.once('close', () => {
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      resolveDone();
    });
  });
}

async function main() {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) process.exit(0);
      process.exit(2);
    }
    const w = toWireError(e);
    if (jsonMode || process.argv.includes('--json')) process.stderr.write(JSON.stringify({ code: w.code, message: w.message }) + '\n');
    else process.stderr.write(`vireo: ${w.message} (${w.code})\n`);
    process.exit(w.code === 'INVALID_ARGUMENT' && /^[a-z.]+: /.test(w.message) ? 1 : 1);
  }
  if (!keepAlive) process.exit(process.exitCode ?? 0);
}

void main();
