import { spawn } from 'node:child_process';
import { join } from 'node:path';

// The real `vireo` command, run as its own process, as a user or a script would.

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
export const CLI_MAIN = join(REPO_ROOT, 'electron', 'cli', 'main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `vireo --home <home> ...args` without blocking this process: needed when this process
 * owns the library, since the CLI then sends its command to us and we must be free to answer.
 */
export function runVireo(home: string, args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(TSX, [CLI_MAIN, '--home', home, ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
