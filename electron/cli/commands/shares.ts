import { resolve } from 'node:path';
import { Option } from 'commander';
import { VireoError } from '../../api/errors.ts';
import { SHARE_TYPES } from '../../shared/config-enums.ts';
import type { GuestToolsInfo, ShareMountResult, SharesList } from '../../api/types.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo share ls|add|rm|mount VM …`: a VM's shared folders, and `--mount` to run the guest's
// mount through its agent. `vireo guest-tools [--attach VM]`: the Windows driver ISO.
// A mount that fails in the guest exits 1 with the guest's message.

const human = <T>(f: (r: T) => string) => f as (r: never) => string;

export function formatShares(l: SharesList): string {
  const lines = l.shares.map((s) => {
    const flags = [s.type, s.readOnly ? 'read-only' : 'read-write', s.available ? null : `NOT AVAILABLE: ${s.reason}`].filter(Boolean).join(', ');
    const mount = s.mount.commands.length ? `\n    in the guest: ${s.mount.commands.join(' && ')}` : '';
    return `${s.tag}\t${s.path}\t(${flags})${mount}${s.mount.note ? `\n    ${s.mount.note}` : ''}`;
  });
  const avail = (['9p', 'virtiofs'] as const).map((t) => `${t}: ${l.availability[t].available ? 'available' : `not available: ${l.availability[t].reason}`}`);
  return [...(lines.length ? lines : ['no shared folders']), '', ...avail].join('\n');
}

const formatMounts = (r: { results: ShareMountResult[] }) =>
  r.results.map((m) => (m.exitCode === 0 ? `mounted ${m.tag} at ${m.mountPoint}` : `${m.tag}: ${m.argv.join(' ')} failed (exit ${m.exitCode}): ${(m.stderr || m.stdout).trim()}`)).join('\n');

export const registerShares: Registrar = (kit: CliKit) => {
  const share = kit.program.command('share').description("a VM's shared folders (9p or virtiofs)");
  const mount = async (vm: string, tag?: string) => {
    const r = await kit.call('shares.mount', { vm, ...(tag ? { tag } : {}) });
    if (r.results.some((m) => m.exitCode !== 0)) process.exitCode = 1;
    return r;
  };

  share
    .command('ls <vm>')
    .description('list the shared folders with their availability and the mount command for the guest')
    .option('--mount', 'mount each of them in the running guest through its agent')
    .action(kit.action(async (vm: string, o: { mount?: boolean }) => {
      const l = await kit.call('shares.list', { vm });
      if (!o.mount) return kit.print(l, human(formatShares));
      const r = await mount(vm);
      kit.print({ ...l, mounted: r.results }, human(() => `${formatShares(l)}\n\n${formatMounts(r)}`));
    }));

  share
    .command('add <vm> <folder>')
    .description('share a host folder with a stopped VM')
    .option('--tag <tag>', 'what the guest mounts it by (default: the folder name)')
    .option('--read-only', 'the guest may read but not write')
    .addOption(new Option('--type <type>', '9p (default) or virtiofs (needs a virtiofsd)').choices(SHARE_TYPES))
    .action(kit.action(async (vm: string, folder: string, o: { tag?: string; readOnly?: boolean; type?: string }) => {
      const l = await kit.call('shares.add', { vm, path: resolve(folder), ...(o.tag ? { tag: o.tag } : {}), ...(o.readOnly ? { readOnly: true } : {}), ...(o.type ? { type: o.type as (typeof SHARE_TYPES)[number] } : {}) });
      kit.print(l, human(formatShares));
    }));

  share
    .command('rm <vm> <tag>')
    .description('stop sharing a folder (VM stopped)')
    .action(kit.action(async (vm: string, tag: string) => kit.print(await kit.call('shares.remove', { vm, tag }), human(formatShares))));

  share
    .command('mount <vm> [tag]')
    .description('mount a share (or all of them) in the running Linux guest through its agent')
    .action(kit.action(async (vm: string, tag?: string) => kit.print(await mount(vm, tag), human(formatMounts))));

  kit.program
    .command('guest-tools')
    .description('virtio-win / SPICE guest tools for Windows guests found on this host, or where to get them')
    .option('--attach <vm>', 'insert the (first, or --iso) virtio-win ISO in the VM\'s CD drive')
    .option('--iso <path>', 'which found ISO to attach')
    .action(kit.action(async (o: { attach?: string; iso?: string }) => {
      const info = await kit.call('guestTools.list', {});
      if (!o.attach) {
        return kit.print(info, human((i: GuestToolsInfo) => (i.found.length ? i.found.map((t) => `${t.kind}\t${t.path}${t.note ? `\t(${t.note})` : ''}`).join('\n') : `${i.guidance}\nlooked in: ${i.searched.join(', ')}`)));
      }
      const pick = o.iso ? resolve(o.iso) : info.found.find((t) => t.attachable && t.kind === 'virtio-win')?.path ?? info.found.find((t) => t.attachable)?.path;
      if (!pick) throw new VireoError('NOT_FOUND', info.guidance ?? 'no guest tools ISO was found on this host', { searched: info.searched });
      const d = await kit.call('guestTools.attach', { vm: o.attach, path: pick });
      kit.print(d, human(() => `inserted ${pick} in ${o.attach}'s CD drive`));
    }));
};
