import { resolve } from 'node:path';
import { Option } from 'commander';
import type { AppliancePreview, ApplianceExport, VirtualBoxLibrary } from '../../api/appliance-types.ts';
import type { VmDetails } from '../../api/types.ts';
import { formatBytes } from '../../shared/size.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo import FILE` (an OVA/OVF, a VirtualBox .vbox machine, a Vireo bundle) with
// --dry-run showing what would be mapped and dropped, and `vireo export VM --format ova|bundle
// -o FILE`. Paths are made absolute here: the engine serving the call may run elsewhere.

export function formatPreview(p: AppliancePreview): string {
  const lines = [
    `${p.kind.toUpperCase()} ${p.path}`,
    `name: ${p.name}`,
    `manifest: ${p.manifest ?? (p.kind === 'vbox' ? 'none (a VirtualBox machine folder)' : 'none: the files cannot be verified')}`,
    'mapped:',
    ...p.mapped.map((m) => `  ${m.item}: ${m.value}  (${m.note})`),
  ];
  if (p.dropped.length) lines.push('dropped:', ...p.dropped.map((d) => `  ${d.item}: ${d.value}  (${d.note})`));
  else lines.push('dropped: nothing');
  return lines.join('\n');
}

export function formatVirtualBox(r: VirtualBoxLibrary): string {
  if (!r.machines.length) return r.note ?? `no machines in ${r.dir}`;
  return r.machines
    .map((m) => (m.error ? `${m.name}\t(unreadable: ${m.error})\t${m.path}` : `${m.name}\t${m.os ?? 'unknown OS'}, ${m.cpus ?? '?'} CPU, ${m.memoryMiB ?? '?'} MiB, ${m.disks} disk${m.disks === 1 ? '' : 's'}\t${m.path}`))
    .join('\n');
}

const human = <T>(f: (r: T) => string) => f as (r: never) => string;

export const registerAppliance: Registrar = (kit: CliKit) => {
  kit.program
    .command('import [file]')
    .description('import an appliance as a new VM: .ova/.ovf (VirtualBox, VMware), a VirtualBox .vbox machine file, a UTM .utm folder, a Vireo bundle (.vireo)')
    .option('--name <name>', 'the new VM\'s name (default: the appliance\'s)')
    .option('--dry-run', 'only show what would be mapped and what dropped; create nothing')
    .option('--virtualbox [dir]', "list the machines of a VirtualBox library (default ~/VirtualBox VMs) to import, instead of importing")
    .action(kit.action(async (file: string | undefined, o: { name?: string; dryRun?: boolean; virtualbox?: string | true }) => {
      if (o.virtualbox) {
        const r = await kit.call('appliance.virtualbox', o.virtualbox === true ? {} : { dir: resolve(o.virtualbox) });
        kit.print(r, human(formatVirtualBox));
        return;
      }
      if (!file) {
        process.exitCode = 2;
        process.stderr.write('vireo import: give the appliance file (or --virtualbox to list a VirtualBox library)\n');
        return;
      }
      const path = resolve(file);
      if (o.dryRun) {
        kit.print(await kit.call('appliance.preview', { path }), human(formatPreview));
        return;
      }
      const vm = await kit.call('appliance.import', { path, ...(o.name ? { name: o.name } : {}) });
      kit.print(vm, human((v: VmDetails) => `imported "${v.name}" (${v.id}) into ${v.dir}`));
    }));
  kit.program
    .command('export <vm>')
    .description('export a stopped VM: an OVA (OVF 1.0, streamOptimized VMDK, SHA256 manifest) or a Vireo bundle (config, disks with snapshots, NVRAM, TPM) for another host')
    .addOption(new Option('--format <format>', 'ova or bundle').choices(['ova', 'bundle']).default('ova'))
    .requiredOption('-o, --output <file>', 'the file to write (.ova or .vireo); never overwritten')
    .action(kit.action(async (vm: string, o: { format: 'ova' | 'bundle'; output: string }) => {
      const r = await kit.call('appliance.export', { vm, format: o.format, output: resolve(o.output) });
      kit.print(r, human((x: ApplianceExport) => [`wrote ${x.path} (${formatBytes(x.sizeBytes)})`, ...x.files.map((f) => `  ${f.name}\t${formatBytes(f.sizeBytes)}\tsha256 ${f.sha256}`)].join('\n')));
    }));
};
