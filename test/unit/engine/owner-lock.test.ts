import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { acquireLibraryLock, readLockOwner } from '../../../electron/engine/owner/lock.ts';
import { ownerLockFile } from '../../../electron/engine/paths.ts';
import { Library, baseConfig } from '../../../electron/engine/library/library.ts';

// The library lock in-process (the two-process and kill -9 cases are in
// test/integration/two-engines.test.ts), and the name reservation of Library.create.

const dirs = () => {
  const home = mkdtempSync(join(tmpdir(), 'vireo-lock-'));
  return { home, rt: mkdtempSync(join(tmpdir(), 'vireo-lock-rt-')) };
};

describe('library lock', () => {
  it('Linux: the abstract socket admits one holder, names it to the next, and is free once released', async () => {
    const { home, rt } = dirs();
    const a = await acquireLibraryLock(home, rt, 'app', 'linux');
    await expect(acquireLibraryLock(home, rt, 'cli', 'linux')).rejects.toMatchObject({
      code: 'BUSY',
      details: { pid: process.pid, role: 'app' },
      message: expect.stringMatching(/in use by the Vireo app \(pid \d+\)/),
    });
    expect(await readLockOwner(home, rt, 'linux')).toMatchObject({ pid: process.pid, role: 'app' });
    // Another library is another lock.
    const other = dirs();
    const b = await acquireLibraryLock(other.home, other.rt, 'cli', 'linux');
    await b.release();
    await a.release();
    await a.release(); // twice is harmless
    expect(await readLockOwner(home, rt, 'linux')).toBeNull();
    const c = await acquireLibraryLock(home, rt, 'cli', 'linux');
    await c.release();
    // Nothing on disk: the lock is a name, not a file.
    expect(readdirSync(rt)).toEqual([]);
  });

  it('elsewhere: an O_EXCL file with the pid; a dead holder\'s file is taken over, a live one is BUSY', async () => {
    const { home, rt } = dirs();
    const a = await acquireLibraryLock(home, rt, 'serve', 'darwin');
    expect(JSON.parse(readFileSync(ownerLockFile(rt), 'utf8'))).toMatchObject({ pid: process.pid, role: 'serve' });
    await expect(acquireLibraryLock(home, rt, 'cli', 'darwin')).rejects.toMatchObject({ code: 'BUSY', details: { pid: process.pid, role: 'serve' } });
    await a.release();
    expect(existsSync(ownerLockFile(rt))).toBe(false);

    // A holder killed hard leaves its file; its pid is gone, so the next process takes over.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(ownerLockFile(rt), JSON.stringify({ pid: Number(dead.stdout), role: 'app', since: 'then' }));
    const b = await acquireLibraryLock(home, rt, 'cli', 'darwin');
    expect(JSON.parse(readFileSync(ownerLockFile(rt), 'utf8'))).toMatchObject({ pid: process.pid, role: 'cli' });
    await b.release();
    // Garbage in the file is no holder either.
    writeFileSync(ownerLockFile(rt), 'garbage');
    const c = await acquireLibraryLock(home, rt, 'cli', 'darwin');
    await c.release();
  });
});

describe('Library.create reserves the name before its first await', () => {
  it('three creates with one name (any case) at once: one VM, two ALREADY_EXISTS, nothing left behind', async () => {
    const { home, rt } = dirs();
    const l = new Library(home, rt);
    await l.load();
    for (let round = 0; round < 20; round++) {
      const names = [`vm-${round}`, `VM-${round}`, `Vm-${round}`];
      const results = await Promise.allSettled(names.map((n) => l.create(n, async (_d, id) => baseConfig(id, n))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['ALREADY_EXISTS', 'ALREADY_EXISTS']);
    }
    expect(l.list()).toHaveLength(20);
    expect(readdirSync(l.vmsDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('a failed create gives its name back', async () => {
    const { home, rt } = dirs();
    const l = new Library(home, rt);
    await l.load();
    await expect(l.create('again', async () => {
      throw new Error('disk creation failed');
    })).rejects.toThrow('disk creation failed');
    expect((await l.create('again', async (_d, id) => baseConfig(id, 'again'))).config?.name).toBe('again');
  });
});

describe('a rename reserves its new name like a create', () => {
  it('creates and renames racing for one name (any case): exactly one gets it', async () => {
    const { home, rt } = dirs();
    const l = new Library(home, rt);
    await l.load();
    for (let round = 0; round < 20; round++) {
      const a = await l.create(`a-${round}`, async (_d, id) => baseConfig(id, `a-${round}`));
      const b = await l.create(`b-${round}`, async (_d, id) => baseConfig(id, `b-${round}`));
      const target = `taken-${round}`;
      const results = await Promise.allSettled([
        l.saveConfig(a, { ...a.config!, name: target }),
        l.create(target.toUpperCase(), async (_d, id) => baseConfig(id, target.toUpperCase())),
        l.saveConfig(b, { ...b.config!, name: `Taken-${round}` }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['ALREADY_EXISTS', 'ALREADY_EXISTS']);
      expect(l.list().filter((e) => e.config?.name.toLowerCase() === target)).toHaveLength(1);
    }
  });
});
