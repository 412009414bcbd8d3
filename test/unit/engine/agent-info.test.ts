import { describe, expect, it } from 'vitest';
import { parseInterfaces, parseOsInfo } from '../../../electron/engine/agent/info.ts';
import { EXEC_TIMEOUT_EXIT, execExitCode } from '../../../electron/cli/commands/agent.ts';

// What the agent reports is the guest's word: shapes from qemu-ga's schema are narrowed, and
// anything else is dropped. And how `vireo exec` turns a guest result into its exit code.

describe('agent info', () => {
  it('keeps the interfaces with their MAC and addresses by family, without prefixes', () => {
    const ifs = parseInterfaces([
      { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 }, { 'ip-address-type': 'ipv6', 'ip-address': '::1', prefix: 128 }] },
      { name: 'eth0', 'hardware-address': '52:54:00:12:34:56' },
      { name: 42 },
      'junk',
    ]);
    expect(ifs).toEqual([
      { interface: 'lo', mac: '00:00:00:00:00:00', ipv4: ['127.0.0.1'], ipv6: ['::1'] },
      { interface: 'eth0', mac: '52:54:00:12:34:56', ipv4: [], ipv6: [] },
    ]);
    expect(parseInterfaces({ not: 'a list' })).toEqual([]);
  });

  it('reads the OS from guest-get-osinfo, preferring the pretty name', () => {
    expect(parseOsInfo({ id: 'debian', name: 'Debian GNU/Linux', 'pretty-name': 'Debian GNU/Linux 12 (bookworm)', 'version-id': '12', 'kernel-release': '6.1.0-50-amd64' })).toEqual({
      id: 'debian', name: 'Debian GNU/Linux 12 (bookworm)', version: '12', kernel: '6.1.0-50-amd64',
    });
    expect(parseOsInfo({ 'kernel-release': 7 })).toEqual({ id: null, name: null, version: null, kernel: null });
    expect(parseOsInfo(null)).toBeNull();
  });
});

describe('vireo exec exit codes', () => {
  const base = { stdout: '', stderr: '', truncated: false, timedOut: false, signal: null };
  it('relays the exit code, 128+signal, and 124 on a timeout', () => {
    expect(execExitCode({ ...base, exitCode: 0 })).toBe(0);
    expect(execExitCode({ ...base, exitCode: 7 })).toBe(7);
    expect(execExitCode({ ...base, exitCode: null, signal: 9 })).toBe(137);
    expect(execExitCode({ ...base, exitCode: null, timedOut: true })).toBe(EXEC_TIMEOUT_EXIT);
    expect(EXEC_TIMEOUT_EXIT).toBe(124);
  });
});
