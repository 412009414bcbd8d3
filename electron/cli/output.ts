import type { VmDetails, VmSummary, HostInfo, SnapshotTree, SnapshotNode } from '../api/types.ts';
import { formatBytes } from '../shared/size.ts';

// Human output for the CLI. --json prints the API result itself instead, so scripts get the
// same shapes the UI gets.

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatList(vms: VmSummary[]): string {
  if (!vms.length) return 'No VMs yet. Create one with: vireo create NAME --iso FILE.iso';
  return table([
    ['NAME', 'STATE', 'OS', 'CPUS', 'MEMORY', 'ID'],
    ...vms.map((v) => [v.name, v.broken ? 'broken' : v.state, v.os.name, String(v.cpus), `${v.memoryMiB} MiB`, v.id]),
  ]);
}

export function formatHost(h: HostInfo): string {
  const lines = [
    `Vireo ${h.appVersion} on ${h.platform}/${h.arch}, ${h.cpus} CPUs, ${formatBytes(h.memoryBytes)}`,
    `Library: ${h.home}`,
  ];
  if (h.qemu.found) lines.push(`QEMU: ${h.qemu.version} (${h.qemu.binary}, from ${h.qemu.source})`);
  else lines.push(`QEMU: not found — ${h.qemu.error.message}`);
  if (h.accel) {
    lines.push(`Accelerator: ${h.accel.chosen.toUpperCase()} — ${h.accel.reason}${h.accel.cached ? ' (cached verdict)' : ''}`);
    for (const c of h.accel.candidates) lines.push(`  ${c.accel.toUpperCase().padEnd(5)} ${c.present ? 'present' : 'absent '}  ${c.verdict}`);
  }
  lines.push(`Firmware: ${h.firmware.length ? h.firmware.map((f) => f.description).join('; ') : 'no UEFI firmware found'}`);
  lines.push(`TPM: ${h.tpm.available ? `swtpm (${h.tpm.version})` : h.tpm.reason}`);
  for (const a of h.arches ?? []) {
    if (a.arch === 'x86_64') continue; // the lines above are x86_64's
    lines.push(`${a.arch} guests: ${a.qemu.found ? `QEMU ${a.qemu.version} (${a.qemu.binary})` : `no QEMU — ${a.qemu.error.message}`}`);
    if (a.accel) lines.push(`  accelerator: ${a.accel.chosen.toUpperCase()} — ${a.accel.reason}`);
    lines.push(`  firmware: ${a.firmware.length ? a.firmware.map((f) => f.description).join('; ') : 'no UEFI firmware found'}`);
  }
  return lines.join('\n');
}

export function formatVm(v: VmDetails): string {
  const c = v.config;
  const lines = [`${v.name} (${v.id})`, `  state:    ${v.state}${v.runtime.pid ? ` (pid ${v.runtime.pid})` : ''}`];
  if (v.broken) lines.push(`  broken:   ${v.broken}`);
  if (v.crash) lines.push(`  crashed:  ${v.crash.reason} at ${v.crash.at}`);
  if (v.runtime.accel) lines.push(`  accel:    ${v.runtime.accel} — ${v.runtime.accelReason}`);
  if (c) {
    lines.push(`  os:       ${c.os.name} (${c.os.id}), profile ${c.profile}`);
    lines.push(`  system:   ${c.system.cpus} CPUs, ${c.system.memoryMiB} MiB, ${c.system.machine}, ${c.system.firmware}${c.system.secureBoot ? ' + Secure Boot' : ''}${c.system.tpm ? ' + TPM 2.0' : ''}, accel ${c.system.accel}`);
    lines.push(`  cdrom:    ${c.cdrom.iso ?? '(empty)'}`);
    if (c.networks.length === 0) lines.push('  network:  none');
    for (const n of c.networks) lines.push(`  network:  ${n.mode} ${n.model} ${n.mac}${c.networks.length > 1 ? ` (${n.id})` : ''}`);
  }
  for (const d of v.disks) lines.push(`  disk:     ${d.id} ${d.path} (${d.format}, ${d.bus}${d.virtualSize ? `, ${formatBytes(d.virtualSize)}` : ''})${d.error ? ` — ${d.error}` : ''}`);
  const k = v.clones;
  if (k?.template) lines.push('  template: yes (not started; vireo clone <template> <name> --from-template makes a VM from it)');
  if (k?.linkedTo) lines.push(`  linked to: ${k.linkedTo.name}${k.linkedTo.snapshot ? ` at snapshot "${k.linkedTo.snapshot}"` : ''}${k.linkedTo.vmId ? '' : ' (deleted; its base stays for this clone)'}`);
  if (k?.baseOf.length) lines.push(`  base of:  ${k.baseOf.map((b) => (b.snapshot ? `${b.name} (snapshot "${b.snapshot}")` : b.name)).join(', ')}`);
  lines.push(`  serial:   ${v.paths.serialLog}`);
  lines.push(`  log:      ${v.paths.qemuLog}`);
  lines.push(`  folder:   ${v.dir}`);
  for (const w of v.warnings) lines.push(`  warning:  ${w}`);
  return lines.join('\n');
}

export function formatTree(t: SnapshotTree): string {
  if (!t.available) return `Snapshots unavailable: ${t.reason}`;
  if (!t.nodes.length) return 'No snapshots.';
  const kids = new Map<string | null, SnapshotNode[]>();
  for (const n of t.nodes) kids.set(n.parent, [...(kids.get(n.parent) ?? []), n]);
  const out: string[] = [];
  const walk = (parent: string | null, indent: string) => {
    for (const n of kids.get(parent) ?? []) {
      out.push(`${indent}${n.name}${n.live ? ' [live]' : ''}  ${n.createdAt}  (${n.id})${n.description ? ` — ${n.description}` : ''}`);
      if (t.current === n.id) out.push(`${indent}  └ current state`);
      walk(n.id, indent + '  ');
    }
  };
  walk(null, '');
  return out.join('\n');
}
