import { statSync } from 'node:fs';

// The packaged app is also the `vireo` command (the deb links /usr/bin/vireo to it; the AppImage
// and the macOS bundle's executable take the same arguments). Its fuses forbid running as plain
// Node (runAsNode off), so the main process itself runs the bundled CLI (.vite/build/cli.mjs)
// when it is started as a command, and opens the window otherwise. Pure, so the rule is tested.

/** The arguments after the executable: packaged [exe, ...args]; unpackaged [electron, main.js, ...args]. */
export function userArgs(argv: readonly string[], isPackaged: boolean): string[] {
  return argv.slice(isPackaged ? 1 : 2);
}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/**
 * The CLI's arguments when this start is a command (`vireo list`, `vireo --home D show x`,
 * `vireo --help`), else null for the desktop app: no arguments, only switches (Chromium's,
 * macOS's -psn_…), or a file to open (a desktop entry's %U: an ISO or a disk image).
 */
export function cliInvocation(args: readonly string[], fileExists: (p: string) => boolean = isFile): string[] | null {
  if (args.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) return [...args];
  const word = args.find((a) => !a.startsWith('-'));
  if (word === undefined || fileExists(word)) return null;
  return [...args];
}
