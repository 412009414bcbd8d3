import { describe, expect, it } from 'vitest';
import { cliInvocation, userArgs } from '../../../electron/main/cli-mode.ts';

// The packaged app as the `vireo` command: which starts run the bundled CLI and which open the
// window (electron/main/cli-mode.ts; app.ts acts on it before anything else).

describe('cli mode of the packaged app', () => {
  const files = new Set(['/home/u/debian.iso']);
  const exists = (p: string) => files.has(p);
  it('finds the user arguments packaged and unpackaged', () => {
    expect(userArgs(['/opt/Vireo/vireo', 'list'], true)).toEqual(['list']);
    expect(userArgs(['/x/electron', '/src/.vite/build/main.js', 'list'], false)).toEqual(['list']);
  });
  it('runs the CLI for a command, with its options before or after it, and for --help/--version', () => {
    expect(cliInvocation(['list', '--json'], exists)).toEqual(['list', '--json']);
    expect(cliInvocation(['--home', '/tmp/lib', 'show', 'web'], exists)).toEqual(['--home', '/tmp/lib', 'show', 'web']);
    expect(cliInvocation(['--version'], exists)).toEqual(['--version']);
    expect(cliInvocation(['-h'], exists)).toEqual(['-h']);
    // an unknown word still goes to the CLI, which says it is not a command
    expect(cliInvocation(['lst'], exists)).toEqual(['lst']);
  });
  it('opens the app with no arguments, with only switches, or with a file to open', () => {
    expect(cliInvocation([], exists)).toBeNull();
    expect(cliInvocation(['--no-sandbox', '-psn_0_12345'], exists)).toBeNull();
    expect(cliInvocation(['/home/u/debian.iso'], exists)).toBeNull();
  });
});
