import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

// The Debian 12 installer as a netinst-shaped ISO for the express-install tests: the
// debian-installer-12-netboot-amd64 package's kernel and initrd at install.amd/vmlinuz and
// install.amd/initrd.gz (where the netinst ISO has them), the volume id of Debian's own media,
// so OS detection says debian12. Built with xorriso into the test's temp folder.

export const NETBOOT = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';
export const haveNetboot = existsSync(join(NETBOOT, 'linux')) && existsSync(join(NETBOOT, 'initrd.gz'));
export const haveXorriso = (() => {
  try {
    execFileSync('xorriso', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export function buildInstallerIso(dir: string): string {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'install.amd'), { recursive: true });
  mkdirSync(join(tree, '.disk'), { recursive: true });
  copyFileSync(join(NETBOOT, 'linux'), join(tree, 'install.amd', 'vmlinuz'));
  copyFileSync(join(NETBOOT, 'initrd.gz'), join(tree, 'install.amd', 'initrd.gz'));
  writeFileSync(join(tree, '.disk', 'info'), 'Debian GNU/Linux 12.8.0 "Bookworm" - Official amd64 NETINST\n');
  const iso = join(dir, 'debian-12.8.0-amd64-netinst.iso');
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', iso, '-V', 'Debian 12.8.0 amd64 n', '-J', '-R', tree], { stdio: 'ignore' });
  return iso;
}
