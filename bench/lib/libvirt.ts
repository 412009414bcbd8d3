import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../electron/engine/util/proc.ts';
import { killChild, sleep, spawnChild } from './common.ts';

// libvirt as a peer, run by the benchmark itself: a private `libvirtd` in session mode
// (qemu:///session, what GNOME Boxes uses) with its own runtime, config and cache folders in a
// temp dir, so the machine's system libvirt (if any) is neither needed nor touched. As root
// the daemon runs as `nobody`: root would put libvirt in system mode (/etc, /var, cgroups).

const NOBODY = 65534;
const isRoot = () => process.getuid?.() === 0;

export interface LibvirtAvailability {
  ok: boolean;
  reason?: string;
  /** true when this run installed the Debian packages */
  installed: boolean;
}

function haveBinaries(): boolean {
  return ['/usr/sbin/libvirtd', '/usr/bin/virsh'].every((p) => existsSync(p));
}

/** Installs Debian's libvirt-daemon + libvirt-clients when missing and we are root. */
export async function ensureLibvirt(): Promise<LibvirtAvailability> {
  if (haveBinaries()) return { ok: true, installed: false };
  if (!isRoot()) return { ok: false, installed: false, reason: 'libvirtd/virsh are not installed and the benchmark is not root: apt-get install libvirt-daemon libvirt-clients' };
  if (!existsSync('/usr/bin/apt-get')) return { ok: false, installed: false, reason: 'libvirtd/virsh are not installed and apt-get is not available here' };
  try {
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'libvirt-daemon', 'libvirt-daemon-driver-qemu', 'libvirt-clients'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeoutMs: 10 * 60_000,
    });
  } catch (e) {
    return { ok: false, installed: false, reason: `apt-get install libvirt-daemon libvirt-clients failed: ${(e as Error).message.slice(0, 300)}` };
  }
  return haveBinaries() ? { ok: true, installed: true } : { ok: false, installed: true, reason: 'libvirt packages installed but libvirtd/virsh still missing' };
}

export interface Libvirt {
  dir: string;
  virsh(args: string[], timeoutMs?: number): Promise<string>;
  /** a file or folder the daemon's QEMU (running as nobody) may write */
  own(path: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startLibvirt(): Promise<Libvirt> {
  // Short path: libvirt puts unix sockets under it.
  const dir = await mkdtemp('/tmp/vlv-');
  const env = {
    HOME: dir,
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_CONFIG_HOME: join(dir, 'cfg'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_DATA_HOME: join(dir, 'data'),
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    LC_ALL: 'C',
  };
  for (const d of ['run', 'cfg', 'cache', 'data']) await mkdir(join(dir, d), { mode: 0o700 });
  const own = async (p: string) => {
    if (isRoot()) await chown(p, NOBODY, NOBODY);
  };
  for (const d of ['', 'run', 'cfg', 'cache', 'data']) await own(join(dir, d));
  // Timeout 0: the daemon stays until we stop it, whatever the benchmark's pauses.
  const daemon = spawnChild('/usr/sbin/libvirtd', ['--timeout', '0'], { env, cwd: dir, ...(isRoot() ? { uid: NOBODY, gid: NOBODY } : {}) });
  const exited = new Promise<never>((_, reject) =>
    daemon.once('exit', (code, sig) => reject(new Error(`libvirtd exited at start-up (code ${code}, signal ${sig}): ${daemon.stderrText().slice(-600)}`))),
  );
  exited.catch(() => {});
  const virsh = async (args: string[], timeoutMs = 120_000) => {
    const argv = ['virsh', '-q', '-c', 'qemu:///session', ...args];
    const r = isRoot()
      ? await run('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv], { env, timeoutMs, cwd: dir })
      : await run(argv[0]!, argv.slice(1), { env, timeoutMs, cwd: dir });
    return r.stdout;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (existsSync(join(dir, 'run', 'libvirt', 'libvirt-sock'))) {
      try {
        await Promise.race([virsh(['version'], 10_000), exited]);
        break;
      } catch (e) {
        if (daemon.exitCode !== null || Date.now() > deadline) {
          await killChild(daemon);
          throw e;
        }
      }
    }
    if (daemon.exitCode !== null) await exited;
    if (Date.now() > deadline) {
      await killChild(daemon);
      throw new Error(`libvirtd did not open its socket within 20 s: ${daemon.stderrText().slice(-600)}`);
    }
    await sleep(100);
  }
  return {
    dir,
    virsh,
    own,
    async stop() {
      // Domains still running die with their QEMU; the benchmark destroys them first.
      await killChild(daemon, 'SIGTERM');
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

export interface DomainSpec {
  name: string;
  memoryMiB: number;
  disk: string;
  iso: string;
  serialSocket: string;
  serialLog: string;
  vncSocket: string;
  mac: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');

/** The domain closest to Vireo's argv for the test guest (q35, TCG, same devices and boot). */
export function domainXml(d: DomainSpec): string {
  return `<domain type='qemu'>
  <name>${esc(d.name)}</name>
  <memory unit='MiB'>${d.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><boot dev='cdrom'/><boot dev='hd'/></os>
  <cpu mode='maximum'/>
  <features><acpi/></features>
  <clock offset='utc'/>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${esc(d.disk)}'/><target dev='sda' bus='sata'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${esc(d.iso)}'/><target dev='sdb' bus='sata'/><readonly/></disk>
    <interface type='user'><mac address='${d.mac}'/><model type='e1000'/></interface>
    <serial type='unix'><source mode='bind' path='${esc(d.serialSocket)}'/><log file='${esc(d.serialLog)}' append='on'/><target port='0'/></serial>
    <controller type='usb' model='qemu-xhci'/>
    <input type='tablet' bus='usb'/>
    <graphics type='vnc' socket='${esc(d.vncSocket)}'/>
    <video><model type='vga'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/** Defines a domain from its spec (XML written into the daemon's folder). */
export async function defineDomain(lv: Libvirt, d: DomainSpec): Promise<void> {
  const xml = join(lv.dir, `${d.name}.xml`);
  await writeFile(xml, domainXml(d));
  await lv.own(xml);
  await lv.virsh(['define', xml]);
}

/** Destroys (if running) and undefines a domain with its snapshot metadata; never throws. */
export async function removeDomain(lv: Libvirt, name: string): Promise<void> {
  await lv.virsh(['destroy', name]).catch(() => {});
  await lv.virsh(['undefine', name, '--snapshots-metadata']).catch(() => {});
}
