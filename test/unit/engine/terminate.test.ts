import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidAlive, terminate } from '../../../electron/engine/vm/process.ts';

// The escalation every helper process gets when its VM stops (swtpm, virtiofsd, passt).

const start = (script: string) => {
  const child = spawn('sh', ['-c', script], { stdio: 'ignore' });
  return new Promise<number>((resolve) => setTimeout(() => resolve(child.pid!), 200));
};

describe('terminate', () => {
  it('asks with SIGTERM first: a process that obeys it exits by itself', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'vireo-term-')), 'got');
    const pid = await start(`trap 'echo TERM > ${marker}; exit 0' TERM; while :; do sleep 1; done`);
    expect(await terminate(pid, 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(pidAlive(pid)).toBe(false);
    expect(readFileSync(marker, 'utf8').trim()).toBe('TERM');
  });

  it('kills a process that ignores SIGTERM once the grace period is over', async () => {
    const pid = await start('trap "" TERM; while :; do sleep 1; done');
    expect(await terminate(pid, 300)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(pidAlive(pid)).toBe(false);
  });

  it('says a pid that is already gone is gone', async () => {
    const pid = await start('exit 0');
    await new Promise((r) => setTimeout(r, 200));
    expect(await terminate(pid, 100)).toBe(true);
  });
});
