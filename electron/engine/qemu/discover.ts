import { access, stat, constants } from 'node:fs/promises';
import { posix, win32 } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { ARCH_INFO, DEFAULT_ARCH, type GuestArch } from '../arch.ts';

// Where the QEMU binary comes from, in the order a person expects: what they set in Settings,
// what ships with the app, what their shell would run, then the places package managers use
// even when PATH is minimal (apps started from a desktop launcher or Finder get a short PATH).

export type QemuSource = 'setting' | 'bundled' | 'path' | 'known-dir';

export interface DiscoverOptions {
  /** user setting: the binary itself or the folder holding it */
  setting?: string;
  /** the app's resources folder; bundled QEMU lives in <resourcesDir>/qemu/<platform>-<arch>/ */
  resourcesDir?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  /** which guest architecture's system emulator to find (qemu-system-<arch>) */
  guestArch?: GuestArch;
  /** the usual install folders; defaults to the platform's (tests point it at a temp folder) */
  knownDirs?: string[];
}

export interface DiscoveredQemu {
  binary: string;
  /** qemu-img beside the binary, else on PATH / known dirs; null when none was found */
  imgBinary: string | null;
  source: QemuSource;
  /** every path looked at for the system binary, in order */
  searched: string[];
}

const KNOWN_DIRS: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['/usr/bin', '/usr/local/bin', '/usr/libexec'],
  darwin: ['/opt/homebrew/bin', '/usr/local/bin', '/opt/local/bin'],
  win32: ['C:\\Program Files\\qemu', 'C:\\Program Files (x86)\\qemu'],
};
const FALLBACK_DIRS = ['/usr/bin', '/usr/local/bin'];

export function installHint(platform: NodeJS.Platform, guestArch: GuestArch = DEFAULT_ARCH): string {
  switch (platform) {
    case 'darwin':
      return 'install it with Homebrew (`brew install qemu`)';
    case 'win32':
      return 'install it with the Windows installer from https://www.qemu.org/download/#windows';
    case 'linux':
      return `install it: Debian/Ubuntu \`sudo apt install ${ARCH_INFO[guestArch].debianPackage} qemu-utils\`, Fedora \`sudo dnf install qemu-kvm qemu-img\``;
    default:
      return "install QEMU with your system's package manager";
  }
}

function pathApi(platform: NodeJS.Platform) {
  return platform === 'win32' ? win32 : posix;
}

/** PATH entries; Windows spells the variable Path and separates with ';'. */
export function pathDirs(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const key = Object.keys(env).find((k) => k.toUpperCase() === 'PATH');
  const value = key ? env[key] : undefined;
  if (!value) return [];
  const sep = platform === 'win32' ? ';' : ':';
  return value
    .split(sep)
    .map((d) => d.trim().replace(/^"(.*)"$/, '$1'))
    .filter((d) => d.length > 0);
}

async function isExecutableFile(p: string, platform: NodeJS.Platform): Promise<boolean> {
  try {
    const st = await stat(p);
    if (!st.isFile()) return false;
    // Windows has no exec bit; existence of the .exe is what counts.
    if (platform !== 'win32') await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

export async function discoverQemu(opts: DiscoverOptions = {}): Promise<DiscoveredQemu> {
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const env = opts.env ?? process.env;
  const p = pathApi(platform);
  const exe = platform === 'win32' ? '.exe' : '';
  const guestArch = opts.guestArch ?? DEFAULT_ARCH;
  const systemName = `${ARCH_INFO[guestArch].qemuSystem}${exe}`;
  const imgName = `qemu-img${exe}`;
  const searched: string[] = [];

  const pathList = pathDirs(env, platform);
  const known = opts.knownDirs ?? KNOWN_DIRS[platform] ?? FALLBACK_DIRS;

  const findImg = async (besideDir: string): Promise<string | null> => {
    for (const dir of dedupe([besideDir, ...pathList, ...known])) {
      const candidate = p.join(dir, imgName);
      if (await isExecutableFile(candidate, platform)) return candidate;
    }
    return null;
  };

  // An explicit setting is a decision, not a hint: using some other QEMU behind the user's back
  // would make "why does my VM behave differently" undebuggable, so a bad setting is an error.
  if (opts.setting && opts.setting.trim()) {
    const setting = opts.setting.trim();
    const candidate = (await isDir(setting)) ? p.join(setting, systemName) : setting;
    searched.push(candidate);
    if (await isExecutableFile(candidate, platform)) {
      return { binary: candidate, imgBinary: await findImg(p.dirname(candidate)), source: 'setting', searched };
    }
    throw new VireoError(
      'QEMU_NOT_FOUND',
      `the QEMU path in Settings (${setting}) is not an executable ${systemName}: fix or clear the setting, or ${installHint(platform, guestArch)}`,
      { searched, setting },
    );
  }

  const stages: Array<{ source: QemuSource; dirs: string[] }> = [];
  if (opts.resourcesDir) stages.push({ source: 'bundled', dirs: [p.join(opts.resourcesDir, 'qemu', `${platform}-${arch}`)] });
  stages.push({ source: 'path', dirs: pathList });
  stages.push({ source: 'known-dir', dirs: known });

  const seen = new Set<string>();
  for (const stage of stages) {
    for (const dir of stage.dirs) {
      const candidate = p.join(dir, systemName);
      if (seen.has(candidate)) continue;
      seen.add(candidate);
      searched.push(candidate);
      if (await isExecutableFile(candidate, platform)) {
        return { binary: candidate, imgBinary: await findImg(dir), source: stage.source, searched };
      }
    }
  }

  throw new VireoError(
    'QEMU_NOT_FOUND',
    `QEMU (${systemName}) was not found in ${searched.length} places (bundled, PATH, usual install folders): ${installHint(platform, guestArch)}, or set its path in Settings`,
    { searched },
  );
}
