import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { UnattendedAnswers } from '../../api/schemas/unattended.ts';
import { run, runSettled } from '../util/proc.ts';
import type { InstallerKind } from './installers.ts';
import type { RenderContext } from './render.ts';

// libosinfo's install scripts (osinfo-install-script, Debian: libosinfo-bin), used where the
// host has one for the VM's OS and its Linux installer (preseed, kickstart), as virt-install and GNOME Boxes do; Vireo's own
// templates (resources/unattended/) otherwise. Only the answer file's text comes from libosinfo:
// how it reaches the installer (appended to the initrd, or on the answers CD) and the first
// boot's command line stay Vireo's, so what is skipped and tested stays the same. The password
// goes to osinfo-install-script in a 0600 config file, never on its command line (visible to
// every user in ps). libosinfo's scripts carry it in clear inside the answer file, where
// Vireo's templates write only a hash: that file lives as long as Vireo's (0600, gone once the
// install's first boot has started or at the next start).

export const OSINFO_INSTALL_SCRIPT = 'osinfo-install-script';

export interface LibosinfoScript {
  binary: string;
  /** the OS as libosinfo names it (Vireo's OS ids are libosinfo's short ids) */
  osId: string;
  profile: 'jeos' | 'desktop';
  /** the file it writes, e.g. preseed.cfg, fedora.ks, autounattend.xml */
  file: string;
}

export type LibosinfoLookup = { script: LibosinfoScript; reason: null } | { script: null; reason: string };

/** Which of libosinfo's script files answers each of Vireo's installer kinds. */
const FILE_OF: Record<InstallerKind, RegExp | null> = {
  preseed: /^preseed\.cfg$/,
  kickstart: /\.ks$/,
  // libosinfo 1.10's Windows scripts lay the disk out for BIOS (one MBR partition), which
  // Windows Setup refuses on UEFI, the firmware Vireo gives Windows 10/11; Vireo's template has
  // the UEFI/GPT layout and the virtio driver paths
  autounattend: null,
  // libosinfo's Ubuntu scripts are d-i preseeds for the old installer, not subiquity's autoinstall
  autoinstall: null,
};

const WHY_NOT: Partial<Record<InstallerKind, string>> = {
  autounattend: "libosinfo's Windows scripts partition for BIOS only (one MBR partition), and Windows Setup refuses that on UEFI",
  autoinstall: "libosinfo's scripts for this OS answer the older installer, not Ubuntu's autoinstall",
};

/** libosinfo's script for this OS and installer kind on this host, or why Vireo's template is used. */
export async function libosinfoScriptFor(osId: string, kind: InstallerKind, binary = OSINFO_INSTALL_SCRIPT): Promise<LibosinfoLookup> {
  const want = FILE_OF[kind];
  if (!want) return { script: null, reason: WHY_NOT[kind] ?? `libosinfo has no ${kind} scripts` };
  const r = await runSettled(binary, ['--list-profiles', osId], { timeoutMs: 15_000 });
  if (r.spawnError) return { script: null, reason: `libosinfo's ${binary} is not installed (Debian/Ubuntu: libosinfo-bin; Fedora: libosinfo)` };
  if (r.code !== 0) return { script: null, reason: `the host's libosinfo does not know ${osId} (its osinfo-db is older than this OS)` };
  // Lines like "jeos: preseed.cfg", "desktop: windows.cmd".
  const profiles = r.stdout
    .split('\n')
    .map((l) => /^\s*(jeos|desktop):\s*(\S+)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && want.test(m[2]!))
    .map((m) => ({ profile: m[1] as 'jeos' | 'desktop', file: m[2]! }));
  // jeos ("just enough OS") is the minimal install: what a test or server VM wants first.
  const pick = profiles.find((p) => p.profile === 'jeos') ?? profiles[0];
  if (!pick) return { script: null, reason: `the host's libosinfo has no ${kind} script for ${osId}` };
  return { script: { binary, osId, ...pick }, reason: null };
}

/** A GKeyFile value: backslash escapes for the characters the format gives a meaning. */
function keyFileValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/^ /, '\\s');
}

/** The answers as osinfo-install-script's configuration keys (its man page's names). */
export function libosinfoConfig(a: UnattendedAnswers, ctx: Pick<RenderContext, 'arch'>): Record<string, string> {
  const locale = a.locale.replace(/\.UTF-8$/i, '');
  return {
    'hardware-arch': ctx.arch,
    'l10n-language': locale,
    'l10n-keyboard': a.keyboard,
    'l10n-timezone': a.timezone,
    hostname: a.hostname,
    'user-login': a.user,
    'user-realname': a.user,
    'user-password': a.password,
    // the scripts require an administrator (root) password; the user's is the one the user gave
    'admin-password': a.password,
    ...(a.productKey ? { 'reg-product-key': a.productKey } : {}),
  };
}

/** Runs libosinfo's script for these answers in a private folder under `workDir`; its text. */
export async function renderWithLibosinfo(s: LibosinfoScript, a: UnattendedAnswers, ctx: Pick<RenderContext, 'arch'>, workDir: string): Promise<string> {
  const dir = await mkdtemp(join(workDir, 'libosinfo-'));
  try {
    const config = join(dir, 'answers.conf');
    const body = Object.entries(libosinfoConfig(a, ctx)).map(([k, v]) => `${k}=${keyFileValue(v)}`);
    await writeFile(config, ['[install-script]', ...body, ''].join('\n'), { mode: 0o600 });
    // (--prefix is not used: libosinfo 1.10 writes it twice, "p--p--preseed.cfg")
    const out = join(dir, 'out');
    await mkdir(out, { mode: 0o700 });
    await run(s.binary, ['--quiet', '--profile', s.profile, '--output-dir', out, '--config-file', config, s.osId], { timeoutMs: 30_000 }).catch((e: VireoError) => {
      throw new VireoError('TOOL_FAILED', `libosinfo's ${s.binary} could not write the ${s.profile} script of ${s.osId}: ${e.message}`, { osId: s.osId });
    });
    return await readFile(join(out, s.file), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
