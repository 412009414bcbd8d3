import { describe, expect, it } from 'vitest';
import { sshTarget, tunnelArgv } from '../../../../electron/engine/remote/tunnel.ts';

// The pure half of carrying a qemu+ssh:// domain's sockets (integration: remote-ssh.test).

describe('sshTarget', () => {
  it('reads user, host and port of a qemu+ssh URI, and nothing of another transport', () => {
    expect(sshTarget('qemu+ssh://me@srv.example:2222/system')).toEqual({ user: 'me', host: 'srv.example', port: 2222 });
    expect(sshTarget('qemu+ssh://10.0.0.2/session?socket=/run/x')).toEqual({ user: null, host: '10.0.0.2', port: null });
    expect(sshTarget('qemu+ssh://root@[fd00::2]/system')).toEqual({ user: 'root', host: 'fd00::2', port: null });
    expect(sshTarget('qemu+tls://srv/system')).toBeNull();
    expect(sshTarget('qemu:///session')).toBeNull();
    // Nothing that ssh would read as an option.
    expect(sshTarget('qemu+ssh://-oProxyCommand=x/system')).toBeNull();
    expect(sshTarget('qemu+ssh://-l@srv/system')).toBeNull();
  });
});

describe('tunnelArgv', () => {
  it('forwards one unix socket without a prompt, the host after --', () => {
    const argv = tunnelArgv({ user: 'me', host: 'srv', port: 2222 }, '/run/v/ssh-1.sock', '/var/lib/libvirt/qemu/vnc.sock');
    expect(argv.slice(-2)).toEqual(['--', 'srv']);
    expect(argv).toEqual(expect.arrayContaining(['-N', 'BatchMode=yes', 'ExitOnForwardFailure=yes', 'StreamLocalBindMask=0177']));
    expect(argv[argv.indexOf('-L') + 1]).toBe('/run/v/ssh-1.sock:/var/lib/libvirt/qemu/vnc.sock');
    expect(argv[argv.indexOf('-p') + 1]).toBe('2222');
    expect(argv[argv.indexOf('-l') + 1]).toBe('me');
    expect(argv.filter((a) => a === '-L')).toHaveLength(1);
  });
});
