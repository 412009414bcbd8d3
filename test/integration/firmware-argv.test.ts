import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { buildArgv } from '../../electron/engine/qemu/argv/index.ts';
import { chooseFirmware, createNvram, discoverFirmware } from '../../electron/engine/firmware/ovmf.ts';
import { startSwtpm, type SwtpmHandle } from '../../electron/engine/tpm/swtpm.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { CASES, contextFor, type Case } from '../unit/engine/golden/fixtures.ts';

// The golden files prove argv is stable; this proves real QEMU accepts it: each config starts
// paused (-S), stays alive, and opens its QMP socket. Disks, ISOs, NVRAM and the TPM are real.

const procs: ChildProcess[] = [];
const dirs: string[] = [];
const tpms: SwtpmHandle[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
    }
  }
  for (const t of tpms.splice(0)) await t.stop();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Minimal QMP exchange: greeting, capabilities, one command. */
async function qmp(socket: string, command: string): Promise<unknown> {
  const s = connect(socket);
  let buf = '';
  const lines: Record<string, unknown>[] = [];
  s.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  const next = async (key: string) => {
    for (let t = 0; t < 500; t++) {
      const idx = lines.findIndex((l) => key in l);
      if (idx >= 0) return lines.splice(idx, 1)[0]![key];
      await sleep(10);
    }
    throw new Error(`no QMP ${key} from ${socket}`);
  };
  try {
    await next('QMP');
    s.write('{"execute":"qmp_capabilities"}\n');
    await next('return');
    s.write(JSON.stringify({ execute: command }) + '\n');
    return await next('return');
  } finally {
    s.destroy();
  }
}

/** Real files for a case's disks and ISO in a temp VM dir whose name has a comma. */
async function materialize(c: Case): Promise<{ c: Case; vmDir: string; runtimeDir: string }> {
  const copy = structuredClone(c);
  const vmDir = await mkdtemp('/tmp/vireo-vm,x-');
  const runtimeDir = await mkdtemp('/tmp/vireo-rt');
  dirs.push(vmDir, runtimeDir);
  await mkdir(join(vmDir, 'logs'));
  for (const d of copy.config.disks) {
    d.file = join(vmDir, d.file.split('/').pop()!);
    await run('qemu-img', ['create', '-f', d.format, d.file, '16M']);
  }
  if (copy.config.cdrom.iso) {
    copy.config.cdrom.iso = join(vmDir, 'install,disc.iso');
    await writeFile(copy.config.cdrom.iso, Buffer.alloc(64 * 1024));
  }
  copy.ctx = { ...copy.ctx, accel: 'tcg' };
  return { c: copy, vmDir, runtimeDir };
}

async function startsPaused(argv: string[], runtimeDir: string): Promise<void> {
  let stderr = '';
  const p = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
  procs.push(p);
  p.stderr!.on('data', (d) => (stderr += d.toString()));
  const qmpSock = join(runtimeDir, 'qmp.sock');
  for (let t = 0; t < 100 && !existsSync(qmpSock) && p.exitCode === null; t++) await sleep(50);
  await sleep(1000);
  expect(p.exitCode, `QEMU exited: ${stderr}`).toBeNull();
  expect(existsSync(qmpSock)).toBe(true);
  expect(await qmp(qmpSock, 'query-status')).toMatchObject({ status: 'prelaunch', running: false });
}

describe('real QEMU accepts the argv', () => {
  for (const name of ['modern-linux', 'legacy-dos', 'commas-in-paths', 'two-nics']) {
    it(name, async () => {
      const { c, vmDir, runtimeDir } = await materialize(CASES[name]!);
      await startsPaused(buildArgv(c.config, contextFor(c, { vmDir, runtimeDir })), runtimeDir);
    });
  }

  it('plain UEFI with discovered firmware and a qcow2 NVRAM', async () => {
    const { c, vmDir, runtimeDir } = await materialize(CASES['plain-uefi']!);
    const fw = chooseFirmware(await discoverFirmware({ platform: 'linux' }), { machine: 'q35', secureBoot: false });
    const nvram = await createNvram(fw, vmDir);
    expect(nvram.format).toBe('qcow2');
    c.ctx.firmware = { code: fw.code, codeFormat: fw.codeFormat, vars: nvram.path, varsFormat: nvram.format, secureBoot: false, requiresSmm: fw.requiresSmm };
    await startsPaused(buildArgv(c.config, contextFor(c, { vmDir, runtimeDir })), runtimeDir);
  });

  it('Windows 11 style: UEFI + Secure Boot (SMM) + TPM via a real swtpm', async () => {
    const { c, vmDir, runtimeDir } = await materialize(CASES['windows11']!);
    const fw = chooseFirmware(await discoverFirmware({ platform: 'linux' }), { machine: 'q35', secureBoot: true });
    expect(fw.enrolledKeys).toBe(true);
    const nvram = await createNvram(fw, vmDir);
    c.ctx.firmware = { code: fw.code, codeFormat: fw.codeFormat, vars: nvram.path, varsFormat: nvram.format, secureBoot: true, requiresSmm: true };
    // The Windows case enables Hyper-V flags; under TCG argv drops them, which is the point.
    const tpm = await startSwtpm({ stateDir: join(vmDir, 'tpm'), runtimeDir, logFile: join(vmDir, 'logs', 'swtpm.log') });
    tpms.push(tpm);
    c.ctx.tpmSocket = tpm.socket;
    const argv = buildArgv(c.config, contextFor(c, { vmDir, runtimeDir }));
    expect(argv.join(' ')).not.toContain('hv_');
    await startsPaused(argv, runtimeDir);
    const tpmInfo = (await qmp(join(runtimeDir, 'qmp.sock'), 'query-tpm')) as { model: string; options: { type: string } }[];
    expect(tpmInfo).toMatchObject([{ model: 'tpm-crb', options: { type: 'emulator' } }]);
  });
});
