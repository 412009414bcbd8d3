import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { findSwtpm, startSwtpm, stopSwtpm, type SwtpmHandle } from '../../electron/engine/tpm/swtpm.ts';
import { VireoError } from '../../electron/api/errors.ts';

// A real swtpm wired to a real QEMU: QEMU sees the TPM, the TPM creates its own state, and
// when QEMU goes away swtpm follows (--terminate), leaving no process behind.

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
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function qmp(socket: string, commands: string[]): Promise<unknown[]> {
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
    await until(`QMP ${key}`, () => lines.some((l) => key in l), 5000);
    const idx = lines.findIndex((l) => key in l);
    return lines.splice(idx, 1)[0]![key];
  };
  try {
    await next('QMP');
    const out: unknown[] = [];
    for (const c of ['qmp_capabilities', ...commands]) {
      s.write(JSON.stringify({ execute: c }) + '\n');
      out.push(await next('return'));
    }
    return out.slice(1);
  } finally {
    s.destroy();
  }
}

async function dirsFor() {
  const vm = await mkdtemp('/tmp/vireo-tpm,vm-');
  const rt = await mkdtemp('/tmp/vireo-rt');
  dirs.push(vm, rt);
  return { vm, rt, opts: { stateDir: join(vm, 'tpm'), runtimeDir: rt, logFile: join(vm, 'swtpm.log') } };
}

describe('swtpm', () => {
  it('serves QEMU a TPM 2.0, creates its state, and exits when QEMU does', async () => {
    const { rt, opts } = await dirsFor();
    const tpm = await startSwtpm(opts);
    tpms.push(tpm);
    expect(await findSwtpm(rt)).toBe(tpm.pid);
    const qmpSock = join(rt, 'qmp.sock');
    const q = spawn('qemu-system-x86_64', [
      '-nodefaults', '-S', '-machine', 'q35', '-accel', 'tcg', '-display', 'none', '-m', '64M',
      '-qmp', `unix:${qmpSock},server=on,wait=off`,
      '-chardev', `socket,id=chrtpm,path=${tpm.socket}`, '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm', '-device', 'tpm-tis,tpmdev=tpm0',
    ], { stdio: 'ignore', shell: false });
    procs.push(q);
    await until('QMP socket', () => existsSync(qmpSock));
    const [tpmInfo] = await qmp(qmpSock, ['query-tpm', 'cont']);
    expect(tpmInfo).toMatchObject([{ model: 'tpm-tis', options: { type: 'emulator' } }]);
    // SeaBIOS sends TPM2_Startup; swtpm then writes its permanent state on its own.
    await until('TPM state file', () => existsSync(join(opts.stateDir, 'tpm2-00.permall')), 60_000);
    q.kill('SIGKILL');
    await until('swtpm to exit after QEMU', () => !alive(tpm.pid));
    expect(await findSwtpm(rt)).toBeNull();
  });

  it('is found and stopped through its pidfile by a later engine', async () => {
    const { rt, opts } = await dirsFor();
    const tpm = await startSwtpm(opts);
    expect(Number((await readFile(join(rt, 'swtpm.pid'), 'utf8')).trim())).toBe(tpm.pid);
    await stopSwtpm(rt);
    await until('swtpm to exit', () => !alive(tpm.pid));
    expect(existsSync(tpm.socket)).toBe(false);
    expect(existsSync(join(rt, 'swtpm.pid'))).toBe(false);
  });

  it('replaces a leftover swtpm whose QEMU never connected', async () => {
    const { opts } = await dirsFor();
    const first = await startSwtpm(opts);
    const second = await startSwtpm(opts);
    tpms.push(second);
    expect(alive(first.pid)).toBe(false);
    expect(alive(second.pid)).toBe(true);
  });

  it('says how to install swtpm when it is missing', async () => {
    const { opts } = await dirsFor();
    const err = await startSwtpm({ ...opts, binary: '/nonexistent/swtpm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VireoError);
    expect(err).toMatchObject({ code: 'UNSUPPORTED' });
    expect((err as Error).message).toMatch(/apt install swtpm swtpm-tools.*dnf install swtpm.*brew install swtpm/);
  });
});
