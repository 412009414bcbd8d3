import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../electron/engine/util/proc.ts';
import { ensureFixtures, guestCmdline, SerialShell, GUEST_MARKERS } from '../../test/fixtures/guest.ts';

// The test guest as a libvirt domain, for benches that measure one capability against libvirt
// (NAT, shared folders): direct-kernel boot of the fixtures' kernel and initramfs, serial on a
// unix socket, 1 vCPU under TCG, run by a session daemon that `virsh create` starts in a temp
// dir of its own (as the user "nobody" when root, since libvirt's system mode needs the
// libvirt-qemu account). The caller gives the devices; this owns the daemon's whole life.

export interface LibvirtGuest {
  /** domain name; made unique per process by the caller */
  name: string;
  machine: 'pc' | 'q35';
  memoryMiB: number;
  /** XML inside <domain> before <os> (e.g. <memoryBacking>) */
  domainExtra?: string;
  /** XML inside <devices>, besides the serial port */
  devices: string;
  readyTimeoutMs: number;
}

/** Boots the guest under libvirt, runs `use` on its serial shell once READY, then tears all down. */
export async function withLibvirtGuest<T>(g: LibvirtGuest, use: (sh: SerialShell) => Promise<T>): Promise<T> {
  const fx = await ensureFixtures();
  const dir = await mkdtemp(join(tmpdir(), 'vireo-bench-libvirt-'));
  const asRoot = process.getuid?.() === 0;
  const env = ['HOME', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME'].map((k, i) => `${k}=${join(dir, ['home', 'run', 'home/.config', 'home/.cache'][i]!)}`);
  const session = ['virsh', '-c', 'qemu:///session'];
  const virsh = (args: string[]) =>
    run(asRoot ? 'runuser' : 'env', [...(asRoot ? ['-u', 'nobody', '--', 'env'] : []), ...env, ...session, ...args], { timeoutMs: 120_000 });
  let sh: SerialShell | null = null;
  try {
    await run('virsh', ['--version'], { timeoutMs: 10_000 }).catch(() => {
      throw new Error('virsh is not installed (Debian: libvirt-clients, libvirt-daemon, libvirt-daemon-driver-qemu)');
    });
    for (const d of ['home', 'run']) await mkdir(join(dir, d), { recursive: true, mode: 0o700 });
    await copyFile(fx.vmlinux, join(dir, 'vmlinux'));
    await copyFile(fx.initrd, join(dir, 'initrd.img'));
    const serial = join(dir, 'serial.sock');
    const xml = `<domain type='qemu'><name>${g.name}</name><memory unit='MiB'>${g.memoryMiB}</memory><vcpu>1</vcpu>${g.domainExtra ?? ''}
  <os><type arch='x86_64' machine='${g.machine}'>hvm</type><kernel>${dir}/vmlinux</kernel><initrd>${dir}/initrd.img</initrd><cmdline>${await guestCmdline()}</cmdline></os>
  <devices>${g.devices}<serial type='unix'><source mode='bind' path='${serial}'/><target port='0'/></serial></devices></domain>`;
    await writeFile(join(dir, 'dom.xml'), xml);
    if (asRoot) await run('chown', ['-R', 'nobody:', dir]);
    await chmod(dir, 0o755);
    await virsh(['create', join(dir, 'dom.xml')]);
    sh = await SerialShell.connect(serial, 30_000);
    await sh.waitFor(GUEST_MARKERS.ready, g.readyTimeoutMs);
    return await use(sh);
  } finally {
    sh?.close();
    await virsh(['destroy', g.name]).catch(() => {});
    // The session daemon virsh started: stopped by its pidfile, not by name.
    const pid = Number((await readFile(join(dir, 'run', 'libvirt', 'libvirtd.pid'), 'utf8').catch(() => '')).trim());
    if (pid > 0) process.kill(pid, 'SIGTERM');
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
