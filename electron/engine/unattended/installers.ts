// Which installer an OS has, and how Vireo hands it the answers. Only OSes with a template of
// ours (resources/unattended/) are offered; every other one gets the reason.
//
// How the answers reach the installer decides whether anything is asked. Debian's installer
// asks language, country and keyboard before it would read a preseed file from a CD, unless the
// file is inside its initrd or the kernel command line carries them; QEMU sets a command line
// only with -kernel/-initrd. So for the Linux installers Vireo does what virt-install does: the
// installer's kernel and initrd are copied out of the ISO, the answer file is appended to the
// initrd as one more (gzip'd newc cpio) archive, which Linux unpacks over the first one, and the
// first boot is a direct kernel boot with the installer's own command line plus ours (-append),
// with -no-reboot so the installer's final reboot ends that run; the next start boots the disk.
// Ubuntu's subiquity reads its answers through cloud-init in the live system, after the initrd,
// so its user-data travels on a "cidata" CD (NoCloud) and only "autoinstall" goes on the command
// line. Windows Setup has no command line: it finds autounattend.xml at the root of any CD.

export type InstallerKind = 'preseed' | 'kickstart' | 'autoinstall' | 'autounattend';

export interface InstallerInfo {
  kind: InstallerKind;
  /** the answer file's template in resources/unattended/ */
  template: string;
  /** where its kernel and initrd are on the install ISO, per guest architecture (none: Windows) */
  boot?: Partial<Record<'x86_64' | 'aarch64', { kernel: string; initrd: string }>>;
  /** a product key means something to this installer */
  productKey: boolean;
}

const DEBIAN: InstallerInfo = {
  kind: 'preseed',
  template: 'preseed.cfg',
  boot: { x86_64: { kernel: 'install.amd/vmlinuz', initrd: 'install.amd/initrd.gz' }, aarch64: { kernel: 'install.a64/vmlinuz', initrd: 'install.a64/initrd.gz' } },
  productKey: false,
};
const UBUNTU: InstallerInfo = {
  kind: 'autoinstall',
  template: 'autoinstall.yaml',
  boot: { x86_64: { kernel: 'casper/vmlinuz', initrd: 'casper/initrd' }, aarch64: { kernel: 'casper/vmlinuz', initrd: 'casper/initrd' } },
  productKey: false,
};
const ANACONDA: InstallerInfo = {
  kind: 'kickstart',
  template: 'kickstart.ks',
  boot: { x86_64: { kernel: 'images/pxeboot/vmlinuz', initrd: 'images/pxeboot/initrd.img' }, aarch64: { kernel: 'images/pxeboot/vmlinuz', initrd: 'images/pxeboot/initrd.img' } },
  productKey: false,
};
const WINDOWS: InstallerInfo = { kind: 'autounattend', template: 'autounattend.xml', productKey: true };

export type InstallerLookup = { ok: true; installer: InstallerInfo } | { ok: false; reason: string };

const num = (s: string | undefined) => Number(s ?? NaN);

/** The installer of an OS id from the OS table ("debian12", "ubuntu22.04", "fedora37", "win11"). */
export function installerFor(osId: string): InstallerLookup {
  const id = osId.toLowerCase();
  let m: RegExpMatchArray | null;
  if ((m = id.match(/^debian(\d+)$/)) || id === 'debiantesting') {
    // preseed/file from the initrd and passwd/user-password-crypted: d-i since Debian 9 at least
    if (m && num(m[1]) < 9) return { ok: false, reason: `Debian ${m[1]} is older than the installers Vireo's preseed was written for (Debian 9 and later)` };
    return { ok: true, installer: DEBIAN };
  }
  if ((m = id.match(/^ubuntu(\d+)\.(\d+)$/))) {
    // subiquity's autoinstall arrived with the 20.04 live server ISO; older ones used d-i media
    if (num(m[1]) < 20) return { ok: false, reason: `Ubuntu ${m[1]}.${m[2]} predates autoinstall (Ubuntu 20.04 and later): install it by hand` };
    return { ok: true, installer: UBUNTU };
  }
  if ((m = id.match(/^(fedora|rhel|centos-stream|centos|rocky|almalinux)(\d+)/))) {
    const v = num(m[2]);
    // inst.ks= / inst.stage2= are the Anaconda spellings since Fedora 19 / RHEL 7
    if ((m[1] === 'fedora' && v < 19) || (m[1] !== 'fedora' && v < 7)) return { ok: false, reason: `${osId} predates the kickstart options Vireo uses (inst.ks=, Fedora 19 / RHEL 7 and later)` };
    return { ok: true, installer: ANACONDA };
  }
  if (/^fedora-coreos/.test(id)) return { ok: false, reason: 'Fedora CoreOS is not installed but provisioned with Ignition: use its disk image instead' };
  if (/^win(10|11|2k16|2k19|2k22|2k25)$/.test(id)) return { ok: true, installer: WINDOWS };
  if (/^win/.test(id)) return { ok: false, reason: `${osId} predates the Windows Setup answer-file format Vireo writes (Windows 10 / Server 2016 and later)` };
  if (id === 'unknown') return { ok: false, reason: 'the OS is not known: choose it (or an ISO Vireo recognises) so Vireo knows which installer to answer' };
  return { ok: false, reason: `Vireo has no express-install template for ${osId}: it has them for Debian, Ubuntu (20.04+), Fedora/RHEL and Windows 10/11` };
}
