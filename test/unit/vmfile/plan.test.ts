import { describe, expect, it } from 'vitest';
import { parseVmFile } from '../../../electron/engine/vmfile/parse.ts';
import { nicsFor, planFile, stepCommand } from '../../../electron/engine/vmfile/plan.ts';
import { VmConfigSchema, type Nic } from '../../../electron/api/schemas/vm-config.ts';
import { inPool } from '../../../electron/cli/vmfile/pool.ts';
import { upExitCode, type UpResult } from '../../../electron/cli/vmfile/up.ts';

// What `vireo up` asks the engine for, per VM of a file.

const file = parseVmFile(`project: ci
vms:
  web:
    base: { vm: golden, snapshot: clean }
    cpus: 2
    memory: 1G
    disk: 8G
    shares: [{ path: src, readOnly: true }]
  db:
    base: { image: ../images/debian.qcow2 }
    memory: 768M
    disk: 10G
  inst:
    base: { iso: /isos/debian.iso }
    disk: 20G
  tmp:
    base: { vm: golden }
    memory: 256M
    disposable: true
  cloud:
    base:
      cloud: { image: images/debian-generic.qcow2, user: ci, hostname: ci-cloud, userData: "#cloud-config\\npackages: [make]\\n" }
    memory: 1G
    disk: 6G
`, '/work/proj/vireo.yaml');

describe('VM file plan', () => {
  it('names each VM "<project>-<key>" and picks clone, import or ISO create, paths resolved against the file', () => {
    const [web, db, inst, tmp, cloud] = planFile(file);
    expect(web).toMatchObject({
      name: 'ci-web',
      create: { method: 'vms.clone', args: { vm: 'golden', name: 'ci-web', linked: true, fromSnapshot: 'clean' } },
      patch: { system: { cpus: 2, memoryMiB: 1024 } },
      growDiskTo: 8 * 1024 ** 3,
      shares: [{ path: '/work/proj/src', readOnly: true, type: '9p' }],
    });
    expect(db).toMatchObject({ name: 'ci-db', create: { method: 'vms.create', args: { name: 'ci-db', importDisk: '/work/images/debian.qcow2', memory: '768M' } }, patch: null, growDiskTo: 10 * 1024 ** 3 });
    // an ISO install gets its disk at creation, so nothing is grown afterwards
    // a disposable one from a library VM is a throwaway (overlays on the base), not a linked clone
    expect(tmp).toMatchObject({ name: 'ci-tmp', create: { method: 'disposables.create', args: { from: 'golden', name: 'ci-tmp' } }, patch: { system: { memoryMiB: 256 } } });
    // a cloud image: vms.create's cloud option (the engine builds the NoCloud seed), sized at creation
    expect(cloud).toMatchObject({
      name: 'ci-cloud',
      create: { method: 'vms.create', args: { name: 'ci-cloud', cloud: { image: '/work/proj/images/debian-generic.qcow2', user: 'ci', hostname: 'ci-cloud', userData: '#cloud-config\npackages: [make]\n' }, memory: '1G', disk: '6G' } },
      growDiskTo: null,
    });
    expect(inst).toMatchObject({ name: 'ci-inst', create: { method: 'vms.create', args: { name: 'ci-inst', iso: '/isos/debian.iso', disk: '20G' } }, growDiskTo: null });
  });

  it('cards keep the MAC of the card at their place; new ones get a fresh one; the result is a valid config', () => {
    const current: Nic[] = [{ id: 'net0', mode: 'user', model: 'e1000', mac: '52:54:00:aa:bb:cc', portForwards: [] }];
    const f = parseVmFile('vms:\n  a:\n    base: {vm: g}\n    nics:\n      - forwards: ["8080:80"]\n      - { mode: private, network: lab }\n', '/p/vireo.yaml');
    const nics = nicsFor(f.spec.vms.a!.nics!, current, (taken) => (taken.has('52:54:00:00:00:01') ? '52:54:00:00:00:02' : '52:54:00:00:00:01'));
    expect(nics).toEqual([
      { id: 'net0', mode: 'user', mac: '52:54:00:aa:bb:cc', model: 'e1000', portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 }] },
      { id: 'net1', mode: 'private', mac: '52:54:00:00:00:01', model: 'e1000', portForwards: [], network: 'lab' },
    ]);
    const cfg = VmConfigSchema.safeParse({ schemaVersion: 2, id: crypto.randomUUID(), name: 'a', createdAt: 'now', networks: nics });
    expect(cfg.success, JSON.stringify(cfg.error?.issues)).toBe(true);
  });

  it('a shell line runs under sh -c; a list is the program and its arguments', () => {
    expect(stepCommand('echo hi; exit 3')).toEqual({ path: 'sh', args: ['-c', 'echo hi; exit 3'], shown: 'echo hi; exit 3' });
    expect(stepCommand(['make', '-j2', 'test'])).toEqual({ path: 'make', args: ['-j2', 'test'], shown: 'make -j2 test' });
  });
});

describe('vireo up: parallelism and exit code', () => {
  it('never runs more than the bound at once, keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const out = await inPool([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 5));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('0 when all is well; 1 when a VM could not be brought up; else the first failed provisioning command\'s code', () => {
    const ok = (vm: string): UpResult => ({ vm, name: vm, id: 'x', action: 'created', provisioned: [], failedStep: null, error: null });
    const failed = (vm: string, exitCode: number): UpResult => ({ ...ok(vm), failedStep: { command: 'false', exitCode, stdout: '', stderr: '', timedOut: false } });
    expect(upExitCode([ok('a'), ok('b')])).toBe(0);
    expect(upExitCode([ok('a'), failed('b', 7), failed('c', 3)])).toBe(7);
    expect(upExitCode([failed('a', 7), { ...ok('b'), action: 'failed', error: { code: 'NOT_FOUND', message: 'no base' } }])).toBe(1);
  });
});
