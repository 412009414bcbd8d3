import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { disposeEngine } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// With an owner running (here: this test process), the CLI is its client and the command runs
// in the owner's process. A relative path the user typed must still mean the user's folder,
// not the owner's working folder.

const vireoIn = (cwd: string, home: string, ...args: string[]) => runVireo(home, args, { cwd });

let engine: Engine | undefined;
afterAll(() => disposeEngine(engine));


describe('CLI as a client of the owner', () => {
  it("resolves relative paths against the user's folder, not the owner's", async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-cli-own-'));
    engine = await createEngine({ home });
    const work = mkdtempSync(join(tmpdir(), 'vireo-cli-cwd-'));
    expect(process.cwd()).not.toBe(work);
    const made = await vireoIn(work, home, 'disk', 'create', 'rel.qcow2', '16M', '--json');
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout).path).toBe(join(work, 'rel.qcow2'));
    expect(existsSync(join(work, 'rel.qcow2'))).toBe(true);
    expect(existsSync(join(process.cwd(), 'rel.qcow2'))).toBe(false);
    const info = await vireoIn(work, home, 'disk', 'info', 'rel.qcow2', '--json');
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ path: join(work, 'rel.qcow2'), format: 'qcow2', virtualSize: 16 * 1024 ** 2 });
  });
});

describe('vireo rm --keep-disks', () => {
  it('deletes the VM and says where its disk was kept', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-cli-keep-'));
    const work = mkdtempSync(join(tmpdir(), 'vireo-cli-keepw-'));
    const made = await vireoIn(work, home, 'create', 'kept-one', '--disk', '16M', '--memory', '64M', '--cpus', '1', '--json');
    expect(made.code, made.stderr).toBe(0);
    const r = await vireoIn(work, home, 'rm', 'kept-one', '--keep-disks');
    expect(r.code, r.stderr).toBe(0);
    const m = /its disks are kept in (\S+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(existsSync(join(m![1]!, 'disk0.qcow2'))).toBe(true);
    const list = await vireoIn(work, home, 'list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
