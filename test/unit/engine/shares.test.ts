import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmConfigSchema } from '../../../electron/api/schemas/vm-config.ts';
import { buildArgv } from '../../../electron/engine/qemu/argv/index.ts';
import { availabilityFrom, liveSnapshotBlocker, type HostFacts } from '../../../electron/engine/shares/availability.ts';
import { findGuestTools, GUEST_TOOLS_GUIDANCE } from '../../../electron/engine/shares/guest-tools.ts';
import { linuxMountArgv, mountHint } from '../../../electron/engine/shares/mount.ts';
import { tagFor } from '../../../electron/engine/shares/handlers.ts';
import { findVirtiofsd, probeVirtiofsd, refusal, virtiofsdArgs, type Virtiofsd } from '../../../electron/engine/shares/virtiofsd.ts';
import { CASES, SHARE_CASES, cfg, contextFor } from './golden/fixtures.ts';
import { after, code } from './argv-test-helpers.ts';

// Shared folders: config rules, argv, availability reasons, mount commands, guest tools.


describe('shares in the VM config', () => {
  it('refuses two shares with one tag, a bad tag and a relative path', () => {
    const base = { schemaVersion: 2, id: '3f2c1b7e-8a4d-4c2e-9b1a-0d5e6f7a8b9c', name: 'x', createdAt: 'now', networks: [] };
    const ok = VmConfigSchema.safeParse({ ...base, shares: [{ tag: 'a', path: '/x' }] });
    expect(ok.success && ok.data.shares[0]).toEqual({ tag: 'a', path: '/x', readOnly: false, type: '9p' });
    const dup = VmConfigSchema.safeParse({ ...base, shares: [{ tag: 'a', path: '/x' }, { tag: 'a', path: '/y' }] });
    expect(dup.success).toBe(false);
    expect(dup.error?.issues[0]?.message).toMatch(/tag a is used by two shared folders/);
    expect(VmConfigSchema.safeParse({ ...base, shares: [{ tag: 'a b', path: '/x' }] }).success).toBe(false);
    expect(VmConfigSchema.safeParse({ ...base, shares: [{ tag: '-a', path: '/x' }] }).success).toBe(false);
    expect(VmConfigSchema.safeParse({ ...base, shares: [{ tag: 'a', path: 'rel/x' }] }).success).toBe(false);
    expect(VmConfigSchema.safeParse({ ...base }).success && VmConfigSchema.parse(base).shares).toEqual([]);
  });

  it('derives a safe, unique tag from the folder name', () => {
    expect(tagFor('/home/me/My Projects', [])).toBe('My_Projects');
    expect(tagFor('/srv/data', [{ tag: 'data' }, { tag: 'data-2' }])).toBe('data-3');
    expect(tagFor('/', [])).toBe('share');
    expect(tagFor('/x/..hidden', [])).toBe('hidden');
  });
});

describe('shares argv', () => {
  const c = SHARE_CASES['shared-folders']!;
  const argv = buildArgv(c.config, contextFor(c));

  it('serves 9p with mapped-xattr (host ownership), commas doubled, read-only when asked', () => {
    expect(after(argv, '-fsdev')).toEqual([
      'local,id=fsdev0,path=/home/me/src,,old,security_model=mapped-xattr,multidevs=remap',
      'local,id=fsdev1,path=/srv/isos,security_model=mapped-xattr,multidevs=remap,readonly=on',
    ]);
    expect(after(argv, '-device')).toContain('virtio-9p-pci,id=share1,fsdev=fsdev1,mount_tag=isos.ro');
  });

  it('reaches virtiofsd over its socket and shares guest RAM only when a virtiofs share exists', () => {
    expect(after(argv, '-device')).toContain('vhost-user-fs-pci,id=share2,chardev=vfs2,tag=docs');
    expect(argv).toContain('socket,id=vfs2,path=/run/vireo/3f2c1b7e/vfs2.sock');
    expect(after(argv, '-machine')[0]).toMatch(/,memory-backend=mem$/);
    expect(after(argv, '-object')).toContain('memory-backend-memfd,id=mem,size=1024M,share=on');
    expect(after(argv, '-m')).toEqual(['1024M']);
    const plain = buildArgv(CASES['modern-linux']!.config, contextFor(CASES['modern-linux']!));
    expect(plain.join(' ')).not.toMatch(/memory-backend|fsdev|vhost-user-fs/);
    const only9p = structuredClone(c);
    only9p.config.shares = only9p.config.shares.filter((s) => s.type === '9p');
    expect(buildArgv(only9p.config, contextFor(only9p)).join(' ')).not.toMatch(/memory-backend/);
  });

  it('refuses a virtiofs share without its virtiofsd, and on a non-Linux host', () => {
    const noSock = structuredClone(c);
    noSock.ctx.shareSockets = {};
    expect(code(() => buildArgv(noSock.config, contextFor(noSock)))).toBe('INTERNAL');
    const mac = structuredClone(c);
    expect(code(() => buildArgv(mac.config, { ...contextFor(mac), platform: 'darwin' }))).toBe('UNSUPPORTED');
  });

  it('refuses a QEMU without the 9p device, naming it', () => {
    const ctx = contextFor(c);
    ctx.caps = { ...ctx.caps, devices: ctx.caps.devices.filter((d) => d !== 'virtio-9p-pci') };
    expect(() => buildArgv(c.config, ctx)).toThrow(/no "virtio-9p-pci" device/);
  });
});

const C_VFSD: Virtiofsd = { binary: '/usr/lib/qemu/virtiofsd', flavour: 'c', version: '7.2.22', readOnly: false };
const RUST_VFSD: Virtiofsd = { binary: '/usr/libexec/virtiofsd', flavour: 'rust', version: '1.13.3', readOnly: true };
const facts = (over: Partial<HostFacts>): HostFacts => ({ platform: 'linux', uid: 0, devices: ['virtio-9p-pci', 'vhost-user-fs-pci'], virtiofsd: C_VFSD, looked: ['/usr/lib/qemu/virtiofsd'], ...over });

describe('availability with reasons', () => {
  it('9p is available wherever QEMU has its device; virtiofs with the C virtiofsd as root', () => {
    const a = availabilityFrom(facts({}));
    expect(a['9p']).toMatchObject({ available: true, reason: null, readOnly: true });
    expect(a.virtiofs).toMatchObject({ available: true, reason: null, readOnly: false, daemon: { flavour: 'c', needsRoot: true } });
    expect(a.virtiofs.liveSnapshot).toMatch(/non-migratable/);
  });

  it('says why virtiofs is not available: not root with the C one, none found, not Linux, no device', () => {
    expect(availabilityFrom(facts({ uid: 1000 })).virtiofs.reason).toMatch(/only runs as root, and Vireo runs as uid 1000: .*Rust virtiofsd/);
    expect(availabilityFrom(facts({ uid: 1000, virtiofsd: RUST_VFSD })).virtiofs).toMatchObject({ available: true, readOnly: true });
    expect(availabilityFrom(facts({ virtiofsd: null })).virtiofs.reason).toMatch(/no virtiofsd found \(looked in \/usr\/lib\/qemu\/virtiofsd\): install/);
    expect(availabilityFrom(facts({ platform: 'darwin' })).virtiofs.reason).toMatch(/needs a Linux host/);
    expect(availabilityFrom(facts({ devices: ['virtio-9p-pci'] })).virtiofs.reason).toMatch(/no vhost-user-fs-pci device/);
    expect(availabilityFrom(facts({ platform: 'win32' }))['9p'].reason).toMatch(/no 9p file server/);
  });

  it('refuses a read-only share a virtiofsd without a read-only mode would serve writable', () => {
    expect(refusal({ daemon: C_VFSD, source: '/x', readOnly: true }, 'docs', 0)).toMatch(/"docs": the share is read-only, but .* has no read-only mode/);
    expect(refusal({ daemon: RUST_VFSD, source: '/x', readOnly: true }, 'docs', 1000)).toBeNull();
    expect(refusal({ daemon: C_VFSD, source: '/a,b', readOnly: false }, 'docs', 0)).toMatch(/comma/);
  });

  it('runs each flavour with its own options (Rust unprivileged without a sandbox)', () => {
    expect(virtiofsdArgs({ daemon: C_VFSD, source: '/srv/x', readOnly: false, socket: '/r/vfs0.sock' }, 0)).toEqual(['--socket-path=/r/vfs0.sock', '-o', 'source=/srv/x', '-o', 'cache=auto', '-o', 'sandbox=namespace']);
    expect(virtiofsdArgs({ daemon: RUST_VFSD, source: '/srv/x', readOnly: true, socket: '/r/vfs0.sock' }, 1000)).toEqual(['--socket-path=/r/vfs0.sock', '--shared-dir=/srv/x', '--cache=auto', '--sandbox=none', '--readonly']);
  });

  it('blocks live snapshots of a VM with a virtiofs share, not of one with 9p only', () => {
    expect(liveSnapshotBlocker(cfg({ shares: [{ tag: 'a', path: '/a' }] }))).toBeNull();
    expect(liveSnapshotBlocker(cfg({ shares: [{ tag: 'a', path: '/a', type: 'virtiofs' }] }))).toMatch(/"a" is virtiofs: QEMU cannot save/);
  });

  it("probes this host's virtiofsd from the binary itself", async () => {
    const { found } = await findVirtiofsd();
    if (!found) {
      expect(await probeVirtiofsd('/bin/true')).toBeNull();
      return;
    }
    expect(['c', 'rust']).toContain(found.flavour);
    expect(found.version).toMatch(/^\d+\.\d+/);
    // Debian 12's C virtiofsd has no read-only option; whatever is here, the probe read --help.
    if (found.binary === '/usr/lib/qemu/virtiofsd') expect(found).toMatchObject({ flavour: 'c', readOnly: false });
  });
});

describe('guest-side mount commands', () => {
  it('per OS family', () => {
    expect(linuxMountArgv({ tag: 'data', type: '9p', readOnly: true }, '/mnt/data')).toEqual(['mount', '-t', '9p', '-o', 'trans=virtio,version=9p2000.L,msize=524288,ro', 'data', '/mnt/data']);
    expect(mountHint({ tag: 'data', type: 'virtiofs', readOnly: false }, 'linux')).toMatchObject({ commands: ['mkdir -p /mnt/data', 'mount -t virtiofs data /mnt/data'], viaAgent: true });
    const win = mountHint({ tag: 'data', type: 'virtiofs', readOnly: false }, 'windows');
    expect(win.note).toMatch(/virtio-win.*WinFsp/);
    expect(win.commands).toContain('sc.exe start VirtioFsSvc');
    expect(mountHint({ tag: 'data', type: '9p', readOnly: false }, 'windows')).toMatchObject({ commands: [], viaAgent: false });
    expect(mountHint({ tag: 'data', type: 'virtiofs', readOnly: false }, 'macos').commands).toContain('sudo mount_virtiofs data /Volumes/data');
  });
});

describe('guest tools', () => {
  it('offers a virtio-win ISO found in a configured folder, and says where to get one otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-gt-'));
    const empty = mkdtempSync(join(tmpdir(), 'vireo-gt-empty-'));
    try {
      writeFileSync(join(dir, 'virtio-win-0.1.262.iso'), 'not really an ISO, but named like one');
      writeFileSync(join(dir, 'spice-guest-tools-latest.exe'), 'x');
      writeFileSync(join(dir, 'unrelated.iso'), 'x');
      copyFileSync(join(dir, 'unrelated.iso'), join(dir, 'notes.txt'));
      const found = await findGuestTools([dir]);
      expect(found.guidance).toBeNull();
      expect(found.found.map((f) => [f.kind, f.name, f.attachable])).toEqual([
        ['spice-guest-tools', 'spice-guest-tools-latest.exe', false],
        ['virtio-win', 'virtio-win-0.1.262.iso', true],
      ]);
      const none = await findGuestTools([empty, join(empty, 'missing')]);
      expect(none.found).toEqual([]);
      expect(none.guidance).toBe(GUEST_TOOLS_GUIDANCE);
      expect(none.guidance).toMatch(/virtio-win-pkg-scripts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
