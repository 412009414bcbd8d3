import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { discoverFirmware, type FirmwareInfo } from '../../electron/engine/firmware/ovmf.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { GUEST_MARKERS, parseReady, SerialShell, waitForSerialText } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine, waitForReady, waitForState, serialSocketOf } from './helpers.ts';

// Issue 7 end to end: UEFI, Secure Boot and TPM 2.0 VMs created and started through the
// engine's API, checked from inside the test guest (its READY line, efivarfs) and from the
// host (QEMU's argv, QMP, swtpm's process and state, the per-VM NVRAM files).

// OVMF under TCG needs noticeably longer than SeaBIOS to reach the kernel.
const UEFI_BOOT_MS = 150_000;
// On q35 (Vireo's machine for UEFI and the only one for Secure Boot) the guest's signed GRUB
// runs out of memory at 256M ("out of memory", "Failed to decompress kernel"); 384M boots.
const MEMORY = '384M';
// A GUID of our own, so the variable cannot collide with anything the firmware defines.
const TEST_VAR = 'VireoTest-5f1c2a9e-7d3b-4c8e-9a61-2b7e0c4d8f13';
const EFIVARS = '/sys/firmware/efi/efivars';
const EFI_GLOBAL = '8be4df61-93ca-11d2-aa0d-00e098032b8c';

let engine: Engine;
let firmware: FirmwareInfo[];
const shells: SerialShell[] = [];

beforeAll(async () => {
  engine = await tempEngine();
  firmware = await discoverFirmware({ platform: 'linux' });
});
afterEach(() => {
  shells.splice(0).forEach((s) => s.close());
});
afterAll(() => disposeEngine(engine));

async function shellOf(vm: VmDetails): Promise<SerialShell> {
  const d = await engine.client.call('vms.get', { vm: vm.id });
  expect(d.runtime.console).toBe('serial');
  const sh = await SerialShell.connect(serialSocketOf(engine, d));
  shells.push(sh);
  return sh;
}

/** The READY facts of the n-th boot (0-based) in the VM's serial log. */
async function readyFacts(vm: VmDetails, boot = 0) {
  await waitForReady(vm, UEFI_BOOT_MS, boot);
  const all = readFileSync(vm.paths.serialLog, 'latin1').match(new RegExp(GUEST_MARKERS.ready.source, 'g')) ?? [];
  return parseReady(all[boot] ?? '');
}

/** `filename=` values of the -blockdev file nodes QEMU was started with. */
function blockdevFiles(argv: string[]): string[] {
  return argv.flatMap((a) => [...a.matchAll(/(?:^|,)filename=((?:[^,]|,,)*)/g)].map((m) => m[1]!.replaceAll(',,', ',')));
}

/** Every live swtpm process whose argv mentions this runtime dir. */
function swtpmPidsFor(runtimeDir: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.endsWith('swtpm')) continue;
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) === 'Z') continue;
      if (argv.some((a) => a.includes(runtimeDir))) pids.push(Number(d));
    } catch {
      /* exited while we looked */
    }
  }
  return pids;
}

const utf16 = (s: string) => Buffer.from(s, 'utf16le');
/** The firmware stores a variable's name in UTF-16 in the flash; qcow2 keeps data clusters as they are. */
const holdsVariable = (file: string, name: string) => readFileSync(file).includes(utf16(name));

async function sameContent(a: string, aFormat: string, b: string, bFormat: string): Promise<boolean> {
  try {
    await run('qemu-img', ['compare', '-q', '-f', aFormat, '-F', bFormat, a, b]);
    return true;
  } catch {
    return false;
  }
}

async function forceStop(vm: VmDetails) {
  const cur = engine.vms.list().find((v) => v.id === vm.id);
  if (cur && !['stopped', 'crashed'].includes(cur.state)) await engine.client.call('vms.stop', { vm: vm.id, force: true }).catch(() => {});
}

describe('UEFI', () => {
  it('boots to READY firmware=uefi; a UEFI variable set in the guest survives an ACPI stop and start; NVRAM is per VM', async () => {
    const a = await createGuestVm(engine, 'uefi-a', { firmware: 'uefi', memory: MEMORY });
    const b = await createGuestVm(engine, 'uefi-b', { firmware: 'uefi', memory: MEMORY });
    try {
      expect(a.config?.system).toMatchObject({ firmware: 'uefi', secureBoot: false });
      const nvramA = join(a.dir, 'nvram.qcow2');
      const nvramB = join(b.dir, 'nvram.qcow2');
      expect(existsSync(nvramA) && existsSync(nvramB)).toBe(true);

      const started = await engine.client.call('vms.start', { vm: a.id });
      const argv = started.runtime.argv!;
      const plain = firmware.find((f) => argv.includes(`driver=file,node-name=pflash0-file,filename=${f.code},read-only=on`));
      expect(plain, `pflash0 is one of the host's firmware builds: ${argv.join(' ')}`).toBeDefined();
      expect(plain!.secureBoot).toBe(false);
      // The VM's own store, not the firmware package's template, is the writable flash.
      const files = blockdevFiles(argv);
      expect(files).toContain(nvramA);
      expect(files).not.toContain(plain!.varsTemplate);
      expect(files).not.toContain(nvramB);

      expect(await readyFacts(a, 0)).toEqual({ firmware: 'uefi', secureboot: '0', tpm: false });

      const sh = await shellOf(a);
      expect(await sh.run(`grep -c efivarfs /proc/mounts`)).toBe('1');
      // attributes NON_VOLATILE|BOOTSERVICE_ACCESS|RUNTIME_ACCESS (0x07, 4 bytes LE), then data;
      // dd so efivarfs gets attributes and data in one write.
      const write = `printf '\\007\\000\\000\\000vireo-nvram-ok' > /tmp/var && dd if=/tmp/var of=${EFIVARS}/${TEST_VAR} bs=64 2>/dev/null; echo rc=$?`;
      expect(await sh.run(write)).toBe('rc=0');
      expect(await sh.run(`od -An -tx1 -N4 ${EFIVARS}/${TEST_VAR} | tr -s ' '`)).toBe(' 07 00 00 00');
      sh.close();

      const stopped = await engine.client.call('vms.stop', { vm: a.id, timeoutSec: 60 });
      expect(stopped.state).toBe('stopped');
      await waitForSerialText(a.paths.serialLog, GUEST_MARKERS.poweroff, 1000); // the guest itself powered off

      // The variable went to A's flash file and nowhere else.
      expect(holdsVariable(nvramA, 'VireoTest')).toBe(true);
      expect(holdsVariable(nvramB, 'VireoTest')).toBe(false);
      expect(holdsVariable(plain!.varsTemplate, 'VireoTest')).toBe(false);
      expect(await sameContent(plain!.varsTemplate, 'raw', nvramB, 'qcow2')).toBe(true);

      await engine.client.call('vms.start', { vm: a.id });
      expect(await readyFacts(a, 1)).toMatchObject({ firmware: 'uefi' });
      const again = await shellOf(a);
      expect(await again.run(`od -An -tx1 -N4 ${EFIVARS}/${TEST_VAR} | tr -s ' '`)).toBe(' 07 00 00 00');
      expect(await again.run(`tail -c +5 ${EFIVARS}/${TEST_VAR}; echo`)).toBe('vireo-nvram-ok');
    } finally {
      await forceStop(a);
    }
    expect(qemuPidsFor([a.id, b.id])).toEqual([]);
  });
});

describe('TPM 2.0 (swtpm)', () => {
  it('swtpm runs with its state in the VM folder, QEMU has an emulator TPM, the guest sees it; stop and SIGKILL leave nothing behind', async () => {
    const vm = await createGuestVm(engine, 'tpm', { tpm: true, memory: '256M' });
    const entry = engine.vms.resolve(vm.id);
    const runtimeDir = entry.paths.runtime;
    const pidFile = join(runtimeDir, 'swtpm.pid');
    try {
      expect(vm.config?.system.tpm).toBe(true);
      const started = await engine.client.call('vms.start', { vm: vm.id });
      const swtpmPid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(swtpmPidsFor(runtimeDir)).toEqual([swtpmPid]);
      // swtpm runs in the state folder (--tpmstate dir=.), which is inside the VM folder.
      expect(readFileSync(`/proc/${swtpmPid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--tpm2', '--terminate']));
      expect(realpathSync(`/proc/${swtpmPid}/cwd`)).toBe(join(vm.dir, 'tpm'));

      const tpms = await engine.vms.machineFor(entry).monitor('query the TPM of').execute<Array<{ id: string; model: string; options: { type: string } }>>('query-tpm');
      expect(tpms).toHaveLength(1);
      expect(tpms[0]!.model).toMatch(/^tpm-(crb|tis)$/);
      expect(tpms[0]!.options.type).toBe('emulator');
      expect(started.runtime.argv!.join(' ')).toContain(`-device ${tpms[0]!.model},tpmdev=tpm0`);

      expect(await readyFacts(vm, 0)).toMatchObject({ tpm: true });
      // The guest kernel's TPM driver started the TPM, so swtpm has written its permanent state.
      expect(existsSync(join(vm.dir, 'tpm', 'tpm2-00.permall'))).toBe(true);

      expect((await engine.client.call('vms.stop', { vm: vm.id, timeoutSec: 60 })).state).toBe('stopped');
      expect(swtpmPidsFor(runtimeDir)).toEqual([]);
      expect(existsSync(pidFile)).toBe(false);

      // QEMU killed outright: the engine notices, and swtpm must not outlive it.
      const again = await engine.client.call('vms.start', { vm: vm.id });
      expect(swtpmPidsFor(runtimeDir)).toHaveLength(1);
      const crashed = waitForState(engine, vm.id, 'crashed', 15_000);
      process.kill(again.runtime.pid!, 'SIGKILL');
      await crashed;
      const deadline = Date.now() + 5000;
      while (swtpmPidsFor(runtimeDir).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(swtpmPidsFor(runtimeDir)).toEqual([]);
      expect(qemuPidsFor([vm.id])).toEqual([]);
      expect(existsSync(pidFile)).toBe(false);
      // The TPM's state is the VM's: it stays for the next start.
      expect(existsSync(join(vm.dir, 'tpm', 'tpm2-00.permall'))).toBe(true);
    } finally {
      await forceStop(vm);
    }
  });
});

describe('Secure Boot', () => {
  it('uses the enrolled-keys secure-boot firmware with SMM, and the guest boots with Secure Boot enforced', async () => {
    const vm = await createGuestVm(engine, 'sb', { firmware: 'uefi', secureBoot: true, memory: MEMORY });
    try {
      expect(vm.config?.system).toMatchObject({ firmware: 'uefi', secureBoot: true, machine: 'q35' });
      const enrolled = firmware.find((f) => f.secureBoot && f.enrolledKeys && f.requiresSmm);
      expect(enrolled, 'the host has an enrolled-keys OVMF (Debian ovmf)').toBeDefined();
      // The VM's store starts as the enrolled template (Microsoft's keys, which sign shim).
      expect(await sameContent(enrolled!.varsTemplate, enrolled!.varsFormat, join(vm.dir, 'nvram.qcow2'), 'qcow2')).toBe(true);

      const started = await engine.client.call('vms.start', { vm: vm.id });
      const argv = started.runtime.argv!;
      expect(blockdevFiles(argv)).toContain(enrolled!.code);
      const machine = argv[argv.indexOf('-machine') + 1] ?? '';
      expect(machine.split(',')).toEqual(expect.arrayContaining(['smm=on']));
      expect(argv.join(' ')).toContain('driver=cfi.pflash01,property=secure,value=on');

      // Booting at all proves shim, GRUB and the kernel passed signature checks against the
      // enrolled keys; the guest then confirms enforcement from its side.
      expect(await readyFacts(vm, 0)).toMatchObject({ firmware: 'uefi', tpm: false });
      const sh = await shellOf(vm);
      // efivarfs cannot seek, so the whole variable is read: attributes (4 bytes), then the value.
      expect(await sh.run(`od -An -tu1 ${EFIVARS}/SecureBoot-${EFI_GLOBAL} | tr -s ' '`)).toBe(' 6 0 0 0 1');
      expect(await sh.run(`od -An -tu1 ${EFIVARS}/SetupMode-${EFI_GLOBAL} | tr -s ' '`)).toBe(' 6 0 0 0 0');
      expect(await sh.run(`dmesg | grep -c 'secureboot: Secure boot enabled'`)).toBe('1');
    } finally {
      await forceStop(vm);
    }
    expect(qemuPidsFor([vm.id])).toEqual([]);
  });
});
