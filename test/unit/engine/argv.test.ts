import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildArgv, qemuOptEscape } from '../../../electron/engine/qemu/argv/index.ts';
import { CASES, DEVICE_CASES, RESUME_CASES, SHARE_CASES, cfg, contextFor } from './golden/fixtures.ts';
import { after, code } from './argv-test-helpers.ts';

// Golden files pin the exact argv per realistic config. After an intended change, rewrite
// them with `VIREO_UPDATE_GOLDEN=1 npx vitest run test/unit/engine/argv.test.ts` and review
// the diff like code.

const GOLDEN = join(import.meta.dirname, 'golden');
const update = process.env.VIREO_UPDATE_GOLDEN === '1';

describe('buildArgv golden files', () => {
  for (const [name, c] of Object.entries({ ...CASES, ...RESUME_CASES, ...SHARE_CASES, ...DEVICE_CASES })) {
    it(name, () => {
      const argv = buildArgv(c.config, contextFor(c));
      const file = join(GOLDEN, `${name}.argv.json`);
      if (update || !existsSync(file)) {
        if (!update) throw new Error(`golden file ${file} is missing: run with VIREO_UPDATE_GOLDEN=1 to create it`);
        writeFileSync(file, JSON.stringify(argv, null, 2) + '\n');
      }
      expect(argv).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    });
  }
});

const argvOf = (name: string, mutate: (c: ReturnType<typeof structuredClone<(typeof CASES)[string]>>) => void = () => {}) => {
  const c = structuredClone(CASES[name]!);
  mutate(c);
  return buildArgv(c.config, contextFor(c));
};

describe('buildArgv rules', () => {
  it('doubles commas, and only commas', () => {
    expect(qemuOptEscape('/a,b,,c/d=e')).toBe('/a,,b,,,,c/d=e');
  });

  it('never leaves a single comma of a user path in a comma-separated option', () => {
    const argv = argvOf('commas-in-paths');
    const joined = argv.join('\n');
    expect(joined).toContain('filename=/home/me/VMs/a,,b vm/disk,,0.qcow2');
    expect(joined).toContain('filename=/data/x,,y/second.qcow2');
    expect(joined).toContain('filename=/isos/weird,,name.iso');
    expect(joined).toContain('guest=a,,b=c vm,');
    expect(joined).toContain('logfile=/home/me/VMs/a,,b vm/logs/serial.log,');
    // -pidfile takes the whole argument as a path, so no escaping there
    expect(after(argv, '-pidfile')).toEqual(['/run/vireo/3f2c1b7e/qemu.pid']);
  });

  it('starts paused with no defaults, QMP, and VNC on unix sockets only', () => {
    const argv = argvOf('modern-linux');
    expect(argv.slice(0, 3)).toEqual(['-nodefaults', '-no-user-config', '-S']);
    expect(after(argv, '-vnc')).toEqual(['unix:/run/vireo/3f2c1b7e/vnc.sock']);
    expect(after(argv, '-qmp')).toEqual(['unix:/run/vireo/3f2c1b7e/qmp.sock,server=on,wait=off']);
    expect(after(argv, '-display')).toEqual(['none']);
  });

  it('maps cpu auto to host under a hypervisor and max under TCG, also for an explicit host', () => {
    expect(after(argvOf('modern-linux'), '-cpu')).toEqual(['host']);
    expect(after(argvOf('modern-linux', (c) => (c.ctx.accel = 'tcg')), '-cpu')).toEqual(['max']);
    expect(after(argvOf('modern-linux', (c) => { c.ctx.accel = 'tcg'; c.config.system.cpuModel = 'host,+avx2'; }), '-cpu')).toEqual(['max,+avx2']);
  });

  it('adds Hyper-V enlightenments only under KVM and WHPX', () => {
    expect(after(argvOf('windows11'), '-cpu')[0]).toMatch(/^host,hv_relaxed,hv_vapic,hv_spinlocks=0x1fff,hv_time/);
    expect(after(argvOf('windows11', (c) => (c.ctx.accel = 'whpx')), '-accel')).toEqual(['whpx,kernel-irqchip=off']);
    expect(after(argvOf('windows11', (c) => (c.ctx.accel = 'tcg')), '-cpu')).toEqual(['max']);
    expect(after(argvOf('windows11', (c) => (c.ctx.accel = 'hvf')), '-cpu')).toEqual(['host']);
  });

  it('uses bootindex in boot order, skipping the NIC when networking is off', () => {
    const argv = argvOf('plain-uefi', (c) => (c.config.boot.order = ['network', 'cdrom', 'disk']));
    const dev = after(argv, '-device');
    expect(dev.find((d) => d.startsWith('virtio-net-pci'))).toContain('bootindex=1');
    expect(dev.find((d) => d.startsWith('scsi-cd'))).toContain('bootindex=2');
    expect(dev.find((d) => d.startsWith('virtio-blk-pci'))).toContain('bootindex=3');
    expect(dev.find((d) => d.includes('drive=data'))).toContain('bootindex=4');
    const off = argvOf('plain-uefi', (c) => { c.config.networks = []; c.config.boot.order = ['network', 'disk']; });
    expect(off).not.toContain('-netdev');
    expect(after(off, '-device').find((d) => d.startsWith('virtio-blk-pci'))).toContain('bootindex=1');
  });

  it('gives NIC i netdev net<i> and device nic<i>, and the network boot to the first NIC only', () => {
    const argv = argvOf('two-nics');
    expect(after(argv, '-netdev')).toEqual(['user,id=net0', 'user,id=net1,hostfwd=tcp:127.0.0.1:8080-:80']);
    const nics = after(argv, '-device').filter((d) => d.includes('netdev='));
    expect(nics).toEqual(['virtio-net-pci,netdev=net0,mac=52:54:00:00:01:00,id=nic0,bootindex=1', 'e1000,netdev=net1,mac=52:54:00:00:01:01,id=nic1']);
    expect(after(argv, '-device').find((d) => d.startsWith('virtio-blk-pci'))).toContain('bootindex=2');
    const none = argvOf('two-nics', (c) => (c.config.networks = []));
    expect(none).not.toContain('-netdev');
    expect(after(none, '-device').find((d) => d.startsWith('virtio-blk-pci'))).toContain('bootindex=1');
  });

  it('keeps an empty CD-ROM drive with the id cdrom0', () => {
    const dev = after(argvOf('legacy-dos'), '-device');
    expect(dev).toContain('ide-cd,bus=ide.1,unit=0,id=cdrom0,bootindex=2');
  });

  it('puts extraArgs last, verbatim', () => {
    const argv = argvOf('plain-uefi', (c) => (c.config.advanced.extraArgs = ['-device', 'pvpanic,ioport=0x505', '-global', 'a,b']));
    expect(argv.slice(-4)).toEqual(['-device', 'pvpanic,ioport=0x505', '-global', 'a,b']);
  });

  it('turns on SMM and secure flash for Secure Boot, and refuses it on pc', () => {
    const argv = argvOf('windows11');
    expect(after(argv, '-machine')).toEqual(['q35,smm=on,pflash0=pflash0,pflash1=pflash1']);
    expect(after(argv, '-global')).toEqual(['driver=cfi.pflash01,property=secure,value=on']);
    expect(code(() => argvOf('windows11', (c) => (c.config.system.machine = 'pc')))).toBe('UNSUPPORTED');
    expect(code(() => argvOf('modern-linux', (c) => (c.config.system.secureBoot = true)))).toBe('INVALID_ARGUMENT');
  });

  it('refuses a context that disagrees with the config', () => {
    expect(code(() => argvOf('windows11', (c) => delete c.ctx.tpmSocket))).toBe('INTERNAL');
    expect(code(() => argvOf('plain-uefi', (c) => delete c.ctx.firmware))).toBe('INTERNAL');
    expect(code(() => argvOf('windows11', (c) => (c.ctx.firmware!.secureBoot = false)))).toBe('INTERNAL');
  });

  it('checks the QEMU version and that devices exist in this build', () => {
    const c = structuredClone(CASES['modern-linux']!);
    const ctx = contextFor(c);
    expect(code(() => buildArgv(c.config, { ...ctx, caps: { ...ctx.caps, versionParts: [5, 2, 0] } }))).toBe('UNSUPPORTED');
    const noQxl = { ...ctx.caps, devices: ctx.caps.devices.filter((d) => d !== 'qxl-vga') };
    c.config.display.device = 'qxl';
    expect(code(() => buildArgv(c.config, { ...ctx, caps: noQxl }))).toBe('UNSUPPORTED');
    // clipboard is best effort: without the vdagent chardev the VM still starts
    c.config.display.device = 'std';
    const argv = buildArgv(c.config, { ...ctx, caps: { ...ctx.caps, chardevs: ['socket'] } });
    expect(argv.join(' ')).not.toContain('qemu-vdagent');
  });

  it('runs out of IDE positions with a clear error', () => {
    const disks = ['a', 'b', 'c', 'd'].map((id) => ({ id, file: `${id}.img`, format: 'raw', bus: 'ide' }));
    const c = cfg({ system: { machine: 'pc' }, disks, cdrom: { bus: 'ide' } });
    expect(code(() => buildArgv(c, contextFor({ config: c, ctx: { accel: 'tcg' } })))).toBe('INVALID_ARGUMENT');
  });

  it('joins relative disk paths with the Windows path rules on a Windows host', () => {
    const c = structuredClone(CASES['modern-linux']!);
    const argv = buildArgv(c.config, { ...contextFor(c, { vmDir: 'C:\\VMs\\deb', runtimeDir: 'C:\\Users\\me\\AppData\\Local\\Temp\\v1' }), platform: 'win32' });
    expect(argv.join(' ')).toContain('filename=C:\\VMs\\deb\\disk0.qcow2');
    expect(after(argv, '-qmp')).toEqual(['unix:C:\\Users\\me\\AppData\\Local\\Temp\\v1\\qmp.sock,server=on,wait=off']);
  });
});
