import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { parseCondition, probePort } from '../../../electron/cli/commands/wait.ts';
import { sshArgv } from '../../../electron/cli/commands/ssh.ts';
import { ownerAlive, processStartTime } from '../../../electron/engine/vm/disposable.ts';

// The pure and host-local parts of vireo wait / ssh / run: the --for grammar, the port probe
// against real loopback servers that behave like user-mode NAT (accept, then close when the
// guest refuses), ssh's argv read back by the real ssh (-G) and the owner check of a throwaway
// VM. The `vireo` bin is tested in test/integration/cli-bin.test.ts (it starts Node and npm).

function listen(onConn: (s: import('node:net').Socket) => void): Promise<{ server: Server; port: number }> {
  return new Promise((res) => {
    const server = createServer(onConn).listen(0, '127.0.0.1', () => res({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('vireo wait --for', () => {
  it('parses running, agent, ip, port:N and serial:REGEX', () => {
    expect(parseCondition('running')).toEqual({ kind: 'running' });
    expect(parseCondition('agent')).toEqual({ kind: 'agent' });
    expect(parseCondition('ip')).toEqual({ kind: 'ip' });
    expect(parseCondition('port:22')).toEqual({ kind: 'port', port: 22 });
    const s = parseCondition('serial:login: $');
    expect(s.kind === 'serial' && s.regex.test('debian login: ')).toBe(true);
  });

  it('refuses a malformed condition as usage (exit 2), saying what is wrong', () => {
    for (const [spec, why] of [['port:0', 'from 1 to 65535'], ['port:x', 'from 1 to 65535'], ['serial:', 'empty'], ['serial:(', 'not a regular expression'], ['booted', 'unknown condition']]) {
      let err: unknown;
      try {
        parseCondition(spec!);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CommanderError);
      expect((err as CommanderError).exitCode).toBe(2);
      expect((err as CommanderError).message).toContain(why!);
    }
  });

  it('port probe: met when the far side speaks or holds the connection; not when it accepts and closes at once (NAT, guest refusing) or nobody listens', async () => {
    const banner = await listen((s) => s.write('SSH-2.0-x\r\n'));
    const holds = await listen(() => {});
    const closes = await listen((s) => s.destroy());
    try {
      expect(await probePort({ hostAddress: '127.0.0.1', hostPort: banner.port })).toBe(true);
      expect(await probePort({ hostAddress: '127.0.0.1', hostPort: holds.port }, 300)).toBe(true);
      expect(await probePort({ hostAddress: '127.0.0.1', hostPort: closes.port })).toBe(false);
      const freed = closes.port;
      await new Promise<void>((r) => closes.server.close(() => r()));
      expect(await probePort({ hostAddress: '127.0.0.1', hostPort: freed })).toBe(false);
    } finally {
      for (const s of [banner, holds]) s.server.close();
    }
  });
});

describe('vireo ssh argv', () => {
  it('the real ssh reads it as: the forward\'s port and host, the VM\'s own known_hosts, and the seed\'s user and key when there are some', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-ssh-'));
    try {
      writeFileSync(join(dir, 'seed_key'), 'not a real key\n', { mode: 0o600 });
      const plain = sshArgv({ dir, config: null }, { hostAddress: '127.0.0.1', hostPort: 2345 }, ['-G']);
      const seeded = sshArgv({ dir, config: { cloudInit: { user: 'tester', generatedKeyFile: 'seed_key' } } as never }, { hostAddress: '127.0.0.1', hostPort: 2346 }, ['-G']);
      const g = (argv: string[]) => {
        const r = spawnSync('ssh', argv, { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout;
      };
      const p = g(plain);
      expect(p).toContain('\nport 2345\n');
      expect(p).toContain('\nhostname 127.0.0.1\n');
      expect(p).toContain(`userknownhostsfile ${join(dir, 'ssh_known_hosts')}`);
      expect(p).toContain('stricthostkeychecking accept-new');
      expect(plain).not.toContain('-i');
      const s = g(seeded);
      expect(s).toContain('\nuser tester\n');
      expect(s).toContain(`identityfile ${join(dir, 'seed_key')}`);
      expect(s).toContain('identitiesonly yes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('owner of a throwaway VM', () => {
  it('is alive while its process runs, gone once it exits, and a reused pid (another start time) does not count', () => {
    const me = { pid: process.pid, startTime: processStartTime(process.pid) };
    expect(me.startTime).toMatch(/^\d+$/);
    expect(ownerAlive(me)).toBe(true);
    expect(ownerAlive({ pid: process.pid, startTime: String(Number(me.startTime) + 1) })).toBe(false);
    const dead = spawnSync('true').pid!;
    expect(ownerAlive({ pid: dead, startTime: null })).toBe(false);
  });
});
