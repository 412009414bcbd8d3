import type { VmConfig } from '../../../electron/api/types.ts';
import { MAX_NICS } from '../../../electron/shared/config-enums.ts';
import { MiB, formatBytes, readSize } from '../../../electron/shared/size.ts';
import { nameProblem } from './names.ts';

// The settings dialog's rules, kept pure so they are unit-tested: which section a field
// belongs to, the checks made before anything is sent (the engine re-checks everything), and
// how a new network card is made.

export const SECTIONS = ['General', 'System', 'Disks', 'CD-ROM', 'Boot', 'Network', 'Display', 'Sound', 'Devices', 'USB', 'Shared folders', 'Serial', 'Resources', 'Advanced'] as const;
export type SectionName = (typeof SECTIONS)[number];

/** Field paths (the config's, or the engine's issue paths without "patch.") → their section. */
const SECTION_OF: Array<[RegExp, SectionName]> = [
  // disposable: the engine's throwaway marker (vireo run, VM files); never edited, shown as General
  // template: switched in Details → Clones and template (clones/ClonesCard.tsx), General here
  [/^(name|notes|disposable|template)(\.|$)/, 'General'],
  [/^(system|profile|os|arch|backend)(\.|$)/, 'System'],
  [/^disks(\.|$)/, 'Disks'],
  // a cloud image's seed is a CD the engine writes (engine/cloud/); its errors show with the drives,
  // and so do those of the wasm/v86 backend's floppy image (set through the API and the CLI for now)
  [/^(cdrom|cloudInit|floppy)(\.|$)/, 'CD-ROM'],
  // unattended: an express install's first boot (engine/unattended/), engine-managed; with Boot
  [/^(boot|unattended)(\.|$)/, 'Boot'],
  [/^networks(\.|$)/, 'Network'],
  [/^(display|input)(\.|$)/, 'Display'],
  [/^sound(\.|$)/, 'Sound'],
  [/^devices(\.|$)/, 'Devices'],
  [/^usb(\.|$)/, 'USB'],
  [/^shares(\.|$)/, 'Shared folders'],
  [/^serial(\.|$)/, 'Serial'],
  [/^limits(\.|$)/, 'Resources'],
  [/^advanced(\.|$)/, 'Advanced'],
];

export const sectionOf = (path: string): SectionName | undefined => SECTION_OF.find(([re]) => re.test(path))?.[1];

/** Form-only values typed as text and converted on save. */
export interface SettingsExtra {
  memory: string;
  extraArgs: string;
}

export interface SettingsContext {
  otherNames: Iterable<string>;
  hostCpus: number;
  hostMemoryBytes: number;
}

/** Problems by field path; empty when the settings may be sent. */
export function checkSettings(cfg: VmConfig, extra: SettingsExtra, ctx: SettingsContext): Map<string, string> {
  const e = new Map<string, string>();
  const np = nameProblem(cfg.name, ctx.otherNames);
  if (np) e.set('name', np);
  if (!Number.isInteger(cfg.system.cpus) || cfg.system.cpus < 1) e.set('system.cpus', 'Give at least 1 CPU.');
  else if (cfg.system.cpus > ctx.hostCpus) e.set('system.cpus', `This host has ${ctx.hostCpus} CPUs: give at most ${ctx.hostCpus}.`);
  const mem = readSize(extra.memory, 'M');
  if ('error' in mem) e.set('system.memoryMiB', `Memory: ${mem.error}`);
  else if (mem.bytes < 16 * MiB) e.set('system.memoryMiB', 'Memory must be at least 16 MiB.');
  else if (mem.bytes > ctx.hostMemoryBytes) e.set('system.memoryMiB', `Memory ${formatBytes(mem.bytes)} is more than this host has (${formatBytes(ctx.hostMemoryBytes)}).`);
  if (cfg.system.secureBoot && cfg.system.firmware !== 'uefi') e.set('system.secureBoot', 'Secure Boot needs UEFI firmware.');
  if (cfg.boot.order.length === 0) e.set('boot.order', 'Choose at least one device to boot from.');
  if (cfg.boot.order.includes('network') && cfg.networks.length === 0) e.set('boot.order', 'Network boot needs a network card: add one, or untick Network.');
  if (cfg.networks.length > MAX_NICS) e.set('networks', `At most ${MAX_NICS} network cards: remove one.`);
  // A host address and port can be forwarded once across all cards (QEMU binds each).
  const seen = new Set<string>();
  cfg.networks.forEach((nic, n) => {
    nic.portForwards.forEach((p, i) => {
      const at = `networks.${n}.portForwards.${i}`;
      if (!(p.hostPort >= 1 && p.hostPort <= 65535)) e.set(`${at}.hostPort`, 'Host port must be 1–65535.');
      if (!(p.guestPort >= 1 && p.guestPort <= 65535)) e.set(`${at}.guestPort`, 'Guest port must be 1–65535.');
      const key = `${p.protocol}:${p.hostAddress}:${p.hostPort}`;
      if (seen.has(key)) e.set(`${at}.hostPort`, `Host port ${p.hostPort}/${p.protocol} is already forwarded.`);
      seen.add(key);
    });
  });
  return e;
}

/** The config as it will be sent: typed text converted, the name trimmed. */
export function applyExtra(cfg: VmConfig, extra: SettingsExtra, parseArgLines: (t: string) => string[]): VmConfig {
  const mem = readSize(extra.memory, 'M');
  const n = structuredClone(cfg);
  if ('bytes' in mem) n.system.memoryMiB = Math.round(mem.bytes / MiB);
  n.advanced.extraArgs = parseArgLines(extra.extraArgs);
  n.name = n.name.trim();
  return n;
}

export const extraFor = (cfg: VmConfig): SettingsExtra => {
  const m = cfg.system.memoryMiB;
  return { memory: m % 1024 === 0 ? `${m / 1024}G` : `${m}M`, extraArgs: cfg.advanced.extraArgs.join('\n') };
};

type Nic = VmConfig['networks'][number];

/** The lowest free id (net0, net1, ...): the engine names QEMU's netdev and device after it. */
export function nextNicId(nics: readonly Pick<Nic, 'id'>[]): string {
  const used = new Set(nics.map((n) => n.id));
  for (let i = 0; ; i++) if (!used.has(`net${i}`)) return `net${i}`;
}

/**
 * A MAC in QEMU's locally administered 52:54:00 range, not used by another card of this VM.
 * `random` returns bytes (crypto.getRandomValues in the page; a seeded source in tests).
 */
export function newMac(nics: readonly Pick<Nic, 'mac'>[], random: (n: number) => Uint8Array): string {
  const used = new Set(nics.map((n) => n.mac));
  for (;;) {
    const b = random(3);
    const mac = ['52', '54', '00', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
    if (!used.has(mac)) return mac;
  }
}

export function newNic(nics: readonly Nic[], model: Nic['model'], random: (n: number) => Uint8Array): Nic {
  return { id: nextNicId(nics), mode: 'user', model, mac: newMac(nics, random), portForwards: [] };
}
