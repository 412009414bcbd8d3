import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { GUEST_MARKERS, SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { moveBackHome, startVireoPeer, type VireoPeer } from './vireo-peer-helpers.ts';

// Issue 24: a live Vireo↔Vireo move of a UEFI + Secure Boot + TPM guest (the Windows 11 kind:
// SMM guards its variable store), the target a
// real `vireo serve` in a network namespace made here (vireo-peer-helpers.ts), as in
// vireo-migrate.test. The guest writes a UEFI variable (efivarfs) and extends the TPM's PCR 16
// with a random digest (a raw TPM2_PCR_Extend on /dev/tpm0). A cancelled move leaves both as they
// were on the source; after the real move the guest counts on over there without a reboot, reads
// the same PCR 16 from the target's swtpm, the target's own variable store file (made from its
// own firmware template, never copied) holds the variable, the target's tpm/ holds swtpm's state,
// and the source's folder (its TPM state with it) is gone. And back, the serve there the source:
// the same again here.

let engine: Engine;
let vm: VmDetails;
let sh: SerialShell;
let peer: VireoPeer;
const work = mkdtempSync(join(tmpdir(), 'vireo-h1fw-'));
const guid = randomUUID();
const varName = `VireoH1Move-${guid}`;
const varValue = `h1-${randomBytes(8).toString('hex')}`;
/** a second variable, written after the cancelled move, just before the real one */
const lateName = `VireoH1Late-${guid}`;
const lateValue = `h1-${randomBytes(8).toString('hex')}`;
const digest = randomBytes(32);
/** PCR 16 (debug, starts at zeros) after one extend with the digest: SHA-256(zeros ‖ digest). */
const pcr16 = createHash('sha256').update(Buffer.concat([Buffer.alloc(32), digest])).digest('hex').toUpperCase();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lastCount = (text: string) => Number([...text.matchAll(/COUNT (\d+)\n/g)].pop()![1]);
const octal = (b: Buffer) => [...b].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');

/** TPM2_PCR_Extend(PCR 16, sha256 digest) with an empty password session: 65 bytes. */
function pcrExtendCommand(d: Buffer): Buffer {
  const body = Buffer.concat([
    Buffer.from([0, 0, 0, 0x10]), // pcrHandle 16
    Buffer.from([0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0]), // auth area: TPM_RS_PW, no nonce, no attributes, no hmac
    Buffer.from([0, 0, 0, 1, 0, 0x0b]), // one digest, TPM_ALG_SHA256
    d,
  ]);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(0x8002, 0);
  head.writeUInt32BE(10 + body.length, 2);
  head.writeUInt32BE(0x182, 6);
  return Buffer.concat([head, body]);
}

/** The variable store file as raw bytes (read beside a running QEMU with -U). */
async function nvramBytes(file: string): Promise<Buffer> {
  const out = join(work, `nvram-${randomBytes(4).toString('hex')}.raw`);
  await run('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'raw', file, out]);
  const b = readFileSync(out);
  rmSync(out);
  return b;
}
/**
 * One command while the counter runs (its lines keep the shell's text from ending at a prompt,
 * which SerialShell.run waits for): the output up to a marker line of its own.
 */
async function inGuest(shell: SerialShell, cmd: string): Promise<string> {
  const token = `@h1-${randomBytes(4).toString('hex')}@`;
  const from = shell.text.length;
  shell.write(`${cmd}; echo; echo ${token}\n`);
  await shell.waitFor(new RegExp(`\\n${token}\\n`), 30_000);
  return shell.text.slice(from);
}
/** PCR 16 as the guest reads it (the counter's lines may come between). */
const readPcr16 = async (shell: SerialShell) => /^[0-9A-F]{64}$/m.exec(await inGuest(shell, 'cat /sys/class/tpm/tpm0/pcr-sha256/16'))?.[0];
const holdsVariable = (b: Buffer, name = varName, value = varValue) => b.includes(Buffer.from(name.split('-')[0]!, 'utf16le')) && b.includes(Buffer.from(value));

/** swtpm processes whose working folder (its state dir, swtpm.ts) is this one. */
function swtpmsIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')[0]!.endsWith('swtpm') && readlinkSync(`/proc/${d}/cwd`) === dir;
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  peer = await startVireoPeer('h1fw', 246);
  engine = await tempEngine();
  vm = await createGuestVm(engine, 'h1-fw', { firmware: 'uefi', tpm: true, secureBoot: true, memory: '384M', disk: '32M' });
  vm = await engine.client.call('vms.start', { vm: vm.id });
  const ready = await waitForReady(vm, 180_000);
  expect(ready[0]).toMatch(/firmware=uefi secureboot=1 tpm=1/);
  await engine.client.call('vms.changeMedia', { vm: vm.id, iso: null });
  sh = await SerialShell.connect(serialSocketOf(engine, vm));
  await sh.run(`printf '\\007\\000\\000\\000${varValue}' > /sys/firmware/efi/efivars/${varName}`);
  expect(await sh.run(`cat /sys/firmware/efi/efivars/${varName} | tail -c ${varValue.length}`)).toBe(varValue);
  // The response code says whether it took (a TPM still testing itself answers RETRY or TESTING).
  let rc = '';
  for (let i = 0; i < 10 && rc !== '00 00 00 00'; i++) {
    if (i) await sleep(1000);
    const out = await sh.run(`exec 3<>/dev/tpm0; printf '${octal(pcrExtendCommand(digest))}' >&3; dd bs=4096 count=1 <&3 2>/dev/null | od -An -tx1 | head -1; exec 3<&-`);
    rc = /^\s*80 0[12] 00 00 00 [0-9a-f]{2} ((?:[0-9a-f]{2} ?){4})/m.exec(out)?.[1]?.trim() ?? out;
  }
  expect(rc).toBe('00 00 00 00');
  expect(await readPcr16(sh)).toBe(pcr16);
  sh.write('i=0; while true; do echo COUNT $i; i=$((i+1)); usleep 100000; done &\n');
  await sh.waitFor(/COUNT 20\n/, 60_000);
  await engine.client.call('hosts.add', { name: 'fwhost', uri: peer.uri, secret: peer.secret });
}, 300_000);

afterAll(async () => {
  sh?.close();
  await disposeEngine(engine);
  await peer?.stop();
  rmSync(work, { recursive: true, force: true });
}, 90_000);

describe('a live move of a UEFI + TPM VM to a Vireo host carries its variable store and its TPM', () => {
  it('cancelled mid-way, it runs here with its TPM (PCR 16 as extended) and its variables; nothing is left there', async () => {
    const nvram = join(vm.dir, 'nvram.qcow2');
    expect(holdsVariable(await nvramBytes(nvram))).toBe(true);
    const move = engine.client.call('vms.migrate', { vm: vm.id, to: 'fwhost', bandwidthMiB: 1 });
    move.catch(() => {});
    // The target's QEMU (and swtpm) are up once its folder has a running VM.
    let there: string[] = [];
    for (let i = 0; i < 600 && !there.length; i++) {
      await sleep(100);
      there = (await peer.qemus(vm.id)).there.map(String);
    }
    expect(there).toHaveLength(1);
    await sleep(1500);
    const running = (await engine.client.call('jobs.list', {})).filter((j) => j.kind === 'migrate' && j.state === 'running');
    await engine.client.call('jobs.cancel', { id: running[0]!.id });
    await expect(move).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await engine.client.call('vms.get', { vm: vm.id })).state).toBe('running');
    expect((await peer.qemus(vm.id)).there).toEqual([]);
    expect(readdirSync(join(peer.home, 'vms'))).toEqual([]);
    const at = sh.text.length;
    await sh.waitFor(new RegExp(`COUNT ${lastCount(sh.text.slice(0, at)) + 5}\n`), 30_000);
    // The TPM still answers here with the state it had (a fresh one would read zeros).
    expect(await readPcr16(sh)).toBe(pcr16);
    expect(swtpmsIn(join(vm.dir, 'tpm'))).toHaveLength(1);
    expect(holdsVariable(await nvramBytes(nvram))).toBe(true);
  }, 120_000);

  it('moves: it counts on there without a reboot, with the same TPM and the variable in the target\'s own store; the source keeps nothing', async () => {
    await inGuest(sh, `printf '\\007\\000\\000\\000${lateValue}' > /sys/firmware/efi/efivars/${lateName}`);
    expect(holdsVariable(await nvramBytes(join(vm.dir, 'nvram.qcow2')), lateName, lateValue)).toBe(true);
    const before = lastCount(sh.text);
    const permallHere = readFileSync(join(vm.dir, 'tpm', 'tpm2-00.permall'));
    const r = await engine.client.call('vms.migrate', { vm: vm.id, to: 'fwhost' });
    expect(r).toMatchObject({ vm: 'h1-fw', host: 'fwhost' });
    expect(engine.vms.list()).toEqual([]);
    expect(existsSync(vm.dir)).toBe(false);
    expect(swtpmsIn(join(vm.dir, 'tpm'))).toEqual([]);
    const q = await peer.qemus(vm.id);
    expect(q.here).toEqual([]);
    expect(q.there).toHaveLength(1);

    const dir = join(peer.home, 'vms', vm.id);
    // Its QEMU there runs on files of the target's library only.
    const argv = readFileSync(`/proc/${q.there[0]}/cmdline`, 'utf8').split('\0');
    expect(argv.join(' ')).toContain(`filename=${join(dir, 'nvram.qcow2')}`);
    expect(argv.join(' ')).not.toContain(engine.home);
    expect(argv).toContain('driver=cfi.pflash01,property=secure,value=on');
    expect(swtpmsIn(join(dir, 'tpm'))).toHaveLength(1);
    const store = await nvramBytes(join(dir, 'nvram.qcow2'));
    expect(holdsVariable(store)).toBe(true);
    expect(holdsVariable(store, lateName, lateValue)).toBe(true);

    sh.close();
    sh = await SerialShell.connect(peer.serialSocket(vm.id));
    const m = await sh.waitFor(/COUNT (\d+)\n/, 30_000);
    await sh.waitFor(new RegExp(`COUNT ${Number(m[1]) + 5}\n`), 30_000);
    expect(Number(m[1])).toBeGreaterThan(before);
    expect(sh.text).not.toMatch(GUEST_MARKERS.boot);
    expect(await readPcr16(sh)).toBe(pcr16);
    expect(await inGuest(sh, `cat /sys/firmware/efi/efivars/${varName} | tail -c ${varValue.length}`)).toContain(varValue);

    // swtpm there wrote the state it was handed into the new VM's tpm/ folder.
    expect(readdirSync(join(dir, 'tpm'))).toContain('tpm2-00.permall');
    expect(readFileSync(join(dir, 'tpm', 'tpm2-00.permall')).equals(permallHere)).toBe(true);
  }, 180_000);

  it('and back: the serve there moves it to this engine, with the TPM state and variables its swtpm and QEMU took in', async () => {
    const permallThere = readFileSync(join(peer.home, 'vms', vm.id, 'tpm', 'tpm2-00.permall'));
    await moveBackHome(engine, peer, vm.id);
    expect(engine.vms.list().map((v) => [v.name, v.state])).toEqual([['h1-fw', 'running']]);
    expect((await peer.qemus(vm.id)).there).toEqual([]);
    expect(existsSync(join(peer.home, 'vms', vm.id))).toBe(false);
    const store = await nvramBytes(join(vm.dir, 'nvram.qcow2'));
    expect(holdsVariable(store) && holdsVariable(store, lateName, lateValue)).toBe(true);
    expect(readFileSync(join(vm.dir, 'tpm', 'tpm2-00.permall')).equals(permallThere)).toBe(true);
    sh.close();
    sh = await SerialShell.connect(serialSocketOf(engine, await engine.client.call('vms.get', { vm: vm.id })));
    const m = await sh.waitFor(/COUNT (\d+)\n/, 30_000);
    await sh.waitFor(new RegExp(`COUNT ${Number(m[1]) + 5}\n`), 30_000);
    expect(sh.text).not.toMatch(GUEST_MARKERS.boot);
    expect(await readPcr16(sh)).toBe(pcr16);
  }, 180_000);
});
