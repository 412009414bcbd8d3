import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VireoError } from '../../../electron/api/errors.ts';
import { parseVmFile, readVmFile, type FileProblem } from '../../../electron/engine/vmfile/parse.ts';

// The VM file's reader: every malformed file is refused naming the file, the line and the
// field path, with what is expected; a good one comes back with defaults filled in.

function problems(text: string): { message: string; list: FileProblem[] } {
  try {
    parseVmFile(text, '/work/proj/vireo.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(VireoError);
    const v = e as VireoError;
    expect(v.code).toBe('INVALID_ARGUMENT');
    return { message: v.message, list: (v.details as { problems: FileProblem[] }).problems };
  }
  throw new Error('the file was accepted');
}

const GOOD = `# a test matrix
project: ci
vms:
  web:
    base: { vm: golden, snapshot: clean }
    cpus: 2
    memory: 512M
    disk: 4G
    nics:
      - mode: user
        forwards: ["8080:80", "5353:53/udp", { hostPort: 2222, guestPort: 22 }]
    shares:
      - { path: ./src, tag: src, readOnly: true }
    provision:
      - uname -a
      - [sh, -c, "exit 0"]
    disposable: true
  db:
    base: { image: /images/debian.qcow2 }
`;

describe('VM file: a good file', () => {
  it('parses with defaults, forwards in both forms turned into the config\'s PortForward', () => {
    const f = parseVmFile(GOOD, '/work/proj/vireo.yaml');
    expect(f).toMatchObject({ file: '/work/proj/vireo.yaml', dir: '/work/proj', project: 'ci' });
    const web = f.spec.vms.web!;
    expect(web.nics![0]!.forwards).toEqual([
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 },
      { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 5353, guestPort: 53 },
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 },
    ]);
    expect(web.shares).toEqual([{ path: './src', tag: 'src', readOnly: true, type: '9p' }]);
    expect(web.provision).toEqual(['uname -a', ['sh', '-c', 'exit 0']]);
    expect(f.spec.vms.db).toMatchObject({ disposable: false, provision: [], shares: [], provisionTimeout: 600 });
  });

  it('the project defaults to the folder name, made safe as a name prefix', () => {
    expect(parseVmFile('vms:\n  a:\n    base: {iso: x.iso}\n', '/home/me/My App/vireo.yaml').project).toBe('My-App');
  });

  it('readVmFile: a missing file is NOT_FOUND naming where it looked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-vmfile-'));
    try {
      await expect(readVmFile(join(dir, 'vireo.yaml'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(join(dir, 'vireo.yaml')) });
      writeFileSync(join(dir, 'vireo.yaml'), 'vms:\n  a:\n    base: {vm: x}\n    memory: huge\n');
      await expect(readVmFile(join(dir, 'vireo.yaml'))).rejects.toMatchObject({ message: 'vireo.yaml:4 vms.a.memory: expected a size like 512M or 2G' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('VM file: malformed files are refused with the line and the field', () => {
  it('a bad size', () => {
    const r = problems('vms:\n  web:\n    base: { vm: golden }\n    cpus: 1\n    memory: lots\n');
    expect(r.message).toBe('vireo.yaml:5 vms.web.memory: expected a size like 512M or 2G');
    expect(r.list).toEqual([{ line: 5, field: 'vms.web.memory', message: 'expected a size like 512M or 2G' }]);
  });

  it('a missing base points at the VM that lacks it', () => {
    const r = problems('vms:\n  web:\n    memory: 512M\n');
    expect(r.list).toEqual([{ line: 2, field: 'vms.web.base', message: expect.stringMatching(/^missing: expected a base: \{vm: NAME\}/) }]);
  });

  it('two bases at once, and a snapshot without a VM', () => {
    expect(problems('vms:\n  a:\n    base: { vm: g, iso: x.iso }\n').list).toEqual([{ line: 3, field: 'vms.a.base', message: 'give one of vm, image, cloud, iso, not vm and iso' }]);
    expect(problems('vms:\n  a:\n    base:\n      image: d.qcow2\n      snapshot: s\n').list).toEqual([{ line: 5, field: 'vms.a.base.snapshot', message: expect.stringMatching(/snapshot goes with base.vm/) }]);
  });

  it('a cloud base is checked by vms.create\'s own cloud rules: the image is required, the user name and keys must be valid', () => {
    const r = problems('vms:\n  c:\n    base:\n      cloud:\n        user: Root!\n        sshKeys: ["not a key"]\n        colour: red\n');
    expect(r.list).toEqual([
      { line: 4, field: 'vms.c.base.cloud.image', message: 'missing: expected the cloud image file (qcow2, raw or vmdk)' },
      { line: 5, field: 'vms.c.base.cloud.user', message: expect.stringMatching(/^user name must be 1-32 lower-case letters/) },
      { line: 6, field: 'vms.c.base.cloud.sshKeys[0]', message: expect.stringMatching(/not an OpenSSH public key line/) },
      { line: 7, field: 'vms.c.base.cloud.colour', message: expect.stringMatching(/^unknown field \(expected one of image, user, password, passwordHash, sshKeys, hostname, userData/) },
    ]);
  });

  it('unknown fields are named with the ones allowed there', () => {
    const r = problems('vms:\n  web:\n    base: { vm: g }\n    colour: red\n    nics:\n      - mode: user\n        speed: 10\n');
    expect(r.list).toEqual([
      { line: 4, field: 'vms.web.colour', message: 'unknown field (expected one of base, cpus, memory, disk, nics, shares, provision, provisionTimeout, disposable)' },
      { line: 7, field: 'vms.web.nics[0].speed', message: 'unknown field (expected one of mode, model, forwards, network, bridge)' },
    ]);
    expect(r.message.split('\n')[0]).toBe('vireo.yaml has errors:');
  });

  it('forwards: out of range, half given, not a forward', () => {
    const r = problems('vms:\n  web:\n    base: { vm: g }\n    nics:\n      - forwards:\n          - "99999:80"\n          - { hostPort: 8080 }\n          - eighty\n');
    expect(r.list).toEqual([
      { line: 6, field: 'vms.web.nics[0].forwards[0].hostPort', message: 'expected a port number (1-65535)' },
      { line: 7, field: 'vms.web.nics[0].forwards[1].guestPort', message: 'missing: expected a port number (1-65535)' },
      { line: 8, field: 'vms.web.nics[0].forwards[2]', message: expect.stringMatching(/^expected a forward like "8080:80"/) },
    ]);
  });

  it('a NIC mode that does not exist, a private card without a network, forwards on a private card', () => {
    const r = problems('vms:\n  web:\n    base: { vm: g }\n    nics:\n      - mode: wifi\n      - mode: private\n        forwards: ["1:2"]\n');
    expect(r.list).toEqual([
      { line: 5, field: 'vms.web.nics[0].mode', message: 'expected one of user, private, hostonly, bridged, none' },
      { line: 6, field: 'vms.web.nics[1].network', message: expect.stringMatching(/private card needs network/) },
      { line: 7, field: 'vms.web.nics[1].forwards', message: 'forwards need a NAT (user) or host-only card, not private' },
    ]);
  });

  it('provisioning that is not a list of commands; disposable that is not a boolean; cpus that is not a count', () => {
    const r = problems('vms:\n  web:\n    base: { vm: g }\n    cpus: 1.5\n    provision:\n      - 42\n    disposable: "yes"\n');
    expect(r.list).toEqual([
      { line: 4, field: 'vms.web.cpus', message: 'expected a whole number of CPUs (1-512)' },
      { line: 6, field: 'vms.web.provision[0]', message: 'expected a command: a shell line, or a list [program, arg, ...]' },
      { line: 7, field: 'vms.web.disposable', message: 'expected true or false' },
    ]);
  });

  it('a VM key that cannot be part of a name, an empty vms map, no vms at all', () => {
    expect(problems('vms:\n  ok:\n    base: { vm: g }\n  "bad key!":\n    base: { vm: g }\n').list).toEqual([{ line: 4, field: 'vms.bad key!', message: 'expected a VM key of 1-31 letters, digits, "_" or "-"' }]);
    expect(problems('vms: {}\n').list).toEqual([{ line: 1, field: 'vms', message: 'expected at least one VM' }]);
    expect(problems('project: x\n').list).toEqual([{ line: 1, field: 'vms', message: 'missing: expected vms: a map of VM names to VMs' }]);
  });

  it('YAML that does not parse, and a duplicated key, name their line', () => {
    expect(problems('vms:\n  web:\n    base: {vm: g}\n    memory: a: b\n').list[0]).toMatchObject({ line: 4, field: '' });
    expect(problems('vms:\n  web:\n    base: { vm: g }\n    memory: 1G\n    memory: 2G\n').list[0]).toMatchObject({ line: 5, message: expect.stringMatching(/unique/i) });
  });

  it('a folder name that cannot be a prefix asks for project:', () => {
    expect(() => parseVmFile('vms:\n  a:\n    base: {vm: g}\n', '/tmp/___/vireo.yaml')).toThrow(/set project:/);
  });
});
