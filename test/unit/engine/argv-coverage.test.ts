import { describe, expect, it } from 'vitest';
import { VmConfigSchema, type VmConfig } from '../../../electron/api/schemas/vm-config.ts';
import { buildArgv, type ArgvContext } from '../../../electron/engine/qemu/argv/index.ts';
import { CAPS_7_2, cfg } from './golden/fixtures.ts';

// Every leaf of the VM config must reach QEMU's argv, or be listed below as argv-neutral
// with the reason. A new config field that nothing reads fails here, in the spirit of
// virt-manager's test_checkprops. Paths use "[]" for any array element.
const ARGV_NEUTRAL: Record<string, string> = {
  schemaVersion: 'a literal: there is no other valid value to try',
  createdAt: 'metadata shown in the UI',
  notes: 'metadata shown in the UI',
  template: 'a template is refused at start (clone/clone.ts start hook) and is what new-from-template clones; QEMU never runs it',
  disposable: 'who owns a throwaway VM and what it was made from: the engine removes it when its owner is gone (vm/disposable.ts)',
  'os.id': 'used by the wizard to pick defaults (defaults.ts), not by QEMU',
  'os.name': 'shown in the UI',
  'os.family': 'used by the wizard to pick defaults (defaults.ts), not by QEMU',
  'system.accel': 'the engine resolves it (auto, self-test) into ArgvContext.accel, which argv uses',
  'system.pinCpus[]': 'the engine applies CPU affinity to the QEMU process after spawning it',
  'limits.netBytesPerSec': "applied outside QEMU: tc on a bridged card's tap and Vireo's switch for private cards (resources/net-limits.ts)",
  'system.priority': 'the engine applies the scheduling priority to the QEMU process',
  'limits.cpuPercent': "the engine moves the QEMU process into a cgroup with this CPU quota (resources/cgroup.ts), live too",
  arch: 'chooses the QEMU binary; changed alone the config is invalid (arch-rules.ts: q35/pc are x86-only), so its argv is pinned by the aarch64 goldens (argv-aarch64.test.ts)',
  backend: 'chooses which backend runs the VM, not the argv of the QEMU one',
  floppy: 'read by the wasm/v86 backend only; a QEMU VM with a floppy is refused by the schema (shared/v86-rules.ts)',
  'usb[].label': 'what the person saw when choosing the device, shown in the UI',
  'networks[].natBackend': 'the engine resolves it (auto: is passt installed?) into ArgvContext.nat, which argv uses (golden nat-passt)',
  'networks[].hostPorts': 'the list itself on cards that have none (other modes); its elements, networks[].hostPorts[], reach argv',
  cloudInit: 'null or a seed: the walker cannot make a seed from null; a seed adds the cidata CD (test/unit/engine/cloud/seed.test.ts "seed drive in argv"), its fields are the seed ISO\'s content (cloud/seed.ts), written before each start',
};

/** What the engine does before calling buildArgv: pick firmware, start swtpm. */
function ctxFor(config: VmConfig, accel: ArgvContext['accel']): ArgvContext {
  const sb = config.system.secureBoot;
  return {
    vmDir: '/vms/cov',
    sockets: { qmp: '/run/vireo/cov/qmp.sock', qmpCmd: '/run/vireo/cov/qmp-cmd.sock', vnc: '/run/vireo/cov/vnc.sock', serial: '/run/vireo/cov/serial.sock', agent: '/run/vireo/cov/agent.sock' },
    accel,
    caps: CAPS_7_2,
    platform: 'linux',
    pidFile: '/run/vireo/cov/qemu.pid',
    privateNetDir: '/run/vireo/net',
    bridgeHelper: '/usr/lib/qemu/qemu-bridge-helper',
    serialLog: '/vms/cov/logs/serial.log',
    firmware: config.system.firmware === 'uefi'
      ? { code: sb ? '/fw/sb-code.fd' : '/fw/code.fd', vars: '/vms/cov/nvram.qcow2', varsFormat: 'qcow2', secureBoot: sb, requiresSmm: sb }
      : undefined,
    tpmSocket: config.system.tpm ? '/run/vireo/cov/tpm.sock' : undefined,
    shareSockets: Object.fromEntries(config.shares.filter((s) => s.type === 'virtiofs').map((s) => [s.tag, `/run/vireo/cov/vfs-${s.tag}.sock`])),
  };
}

// Non-empty arrays everywhere, so their element fields are walked too.
const everything = (firmware: 'bios' | 'uefi') =>
  cfg({
    notes: 'n',
    os: { id: 'debian12', name: 'Debian', family: 'linux' },
    system: { firmware, pinCpus: [0], cpuModel: 'auto' },
    disks: [
      { id: 'disk0', file: 'disk0.qcow2' },
      { id: 'disk1', file: '/abs/disk1.qcow2', bus: 'scsi' },
    ],
    cdrom: { iso: '/isos/a.iso', extra: [{ iso: '/isos/b.iso', bus: 'scsi' }] },
    sound: { device: 'hda', backend: 'none' },
    usb: [
      { id: 'usb1', kind: 'host', host: '046d:c52b', label: 'a receiver' },
      { id: 'usb2', kind: 'storage', file: 'stick.img' },
      { id: 'usb3', kind: 'keyboard' },
    ],
    display: { resolution: { width: 1024, height: 768 } },
    limits: { diskBytesPerSec: 1_048_576, diskIops: 100 },
    networks: [
      { id: 'net0', mac: '52:54:00:12:34:56', portForwards: [{ hostPort: 2222, guestPort: 22 }] },
      { id: 'net1', mac: '52:54:00:12:34:57', mode: 'private', network: 'lab' },
      { id: 'net2', mac: '52:54:00:12:34:58', mode: 'hostonly', hostPorts: [8080] },
      { id: 'net3', mac: '52:54:00:12:34:59', mode: 'bridged', bridge: 'br0' },
    ],
    shares: [{ tag: 'data', path: '/srv/data' }],
    unattended: { kernel: 'unattended/vmlinuz', initrd: 'unattended/initrd.gz', append: 'auto=true' },
    advanced: { extraArgs: ['-device', 'pvpanic'] },
  });

type Schema = { def: { type: string; innerType?: Schema; element?: Schema; values?: unknown[] }; shape?: Record<string, Schema>; options?: unknown[] };

function unwrap(s: Schema): Schema {
  let cur = s;
  while (['default', 'prefault', 'optional', 'nullable', 'pipe'].includes(cur.def.type) && cur.def.innerType) cur = cur.def.innerType;
  return cur;
}
const isNullable = (s: Schema): boolean =>
  s.def.type === 'nullable' || (!!s.def.innerType && ['default', 'prefault', 'optional'].includes(s.def.type) && isNullable(s.def.innerType));

interface Leaf {
  path: (string | number)[];
  schema: Schema;
  value: unknown;
}

function leaves(schema: Schema, value: unknown, path: (string | number)[] = []): Leaf[] {
  const s = unwrap(schema);
  if (s.def.type === 'object' && value && typeof value === 'object') {
    return Object.entries(s.shape!).flatMap(([k, sub]) => leaves(sub, (value as Record<string, unknown>)[k], [...path, k]));
  }
  if (s.def.type === 'array' && Array.isArray(value)) {
    return value.flatMap((v, i) => leaves(s.def.element!, v, [...path, i]));
  }
  return [{ path, schema, value }];
}

function alternatives(leaf: Leaf): unknown[] {
  const s = unwrap(leaf.schema);
  const v = leaf.value;
  const out: unknown[] = [];
  if (isNullable(leaf.schema)) out.push(v === null ? '/isos/other.iso' : null);
  switch (s.def.type) {
    case 'boolean':
      out.push(!v);
      break;
    case 'enum':
      out.push(...(s.options ?? []).filter((o) => o !== v));
      break;
    case 'number':
      out.push((v as number) + 1, (v as number) - 1);
      break;
    case 'string':
      if (typeof v === 'string') {
        const last = v.at(-1) ?? 'a';
        out.push(v.slice(0, -1) + (/\d/.test(last) ? String((Number(last) + 1) % 10) : last === 'a' ? 'b' : 'a'), `${v}x`, 'qemu64');
      }
      break;
  }
  return out;
}

const keyOf = (path: (string | number)[]) => path.map((p) => (typeof p === 'number' ? '[]' : p)).join('.').replaceAll('.[]', '[]');

function setAt(obj: unknown, path: (string | number)[], value: unknown): void {
  let cur = obj as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path.at(-1)!] = value;
}

function argvOrNull(config: VmConfig, accel: ArgvContext['accel']): string | null {
  try {
    return JSON.stringify(buildArgv(config, ctxFor(config, accel)));
  } catch {
    return null;
  }
}

describe('every config field reaches argv or is listed as argv-neutral', () => {
  const schema = VmConfigSchema as unknown as Schema;
  // Two hosts as well as two firmwares: some fields only matter under a hypervisor (hyperv).
  const bases = [
    { base: everything('bios'), accel: 'tcg' as const },
    { base: everything('uefi'), accel: 'kvm' as const },
  ];
  const covered = new Set<string>();
  const seen = new Set<string>();
  for (const { base, accel } of bases) {
    const baseline = argvOrNull(base, accel);
    it(`base ${base.system.firmware}/${accel} config builds`, () => expect(baseline).not.toBeNull());
    for (const leaf of leaves(schema, base)) {
      const key = keyOf(leaf.path);
      seen.add(key);
      for (const alt of alternatives(leaf)) {
        const copy = structuredClone(base);
        setAt(copy, leaf.path, alt);
        const parsed = VmConfigSchema.safeParse(copy);
        if (!parsed.success) continue;
        const argv = argvOrNull(parsed.data, accel);
        if (argv !== null && argv !== baseline) covered.add(key);
      }
    }
  }

  it('walks the whole schema', () => {
    // Guards the walker itself: if it silently stopped descending, everything would "pass".
    expect(seen.size).toBeGreaterThan(40);
    for (const k of ['disks[].cache', 'networks[].portForwards[].hostAddress', 'boot.order[]', 'advanced.extraArgs[]']) expect(seen).toContain(k);
  });

  it('finds no argv-neutral field outside the allow-list', () => {
    const missing = [...seen].filter((k) => !covered.has(k) && !(k in ARGV_NEUTRAL));
    expect(missing, 'these config fields never change argv: wire them into buildArgv or add them to ARGV_NEUTRAL with a reason').toEqual([]);
  });

  it('keeps the allow-list honest', () => {
    const stale = Object.keys(ARGV_NEUTRAL).filter((k) => !seen.has(k) || covered.has(k));
    expect(stale, 'these allow-listed fields do change argv or no longer exist: remove them from ARGV_NEUTRAL').toEqual([]);
  });
});
