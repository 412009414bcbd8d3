import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { UnattendedAnswers } from '../../api/schemas/unattended.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import { MAX_EXTRA_CDROMS } from '../../shared/config-enums.ts';
import { IsoReader } from '../osdetect/iso9660.ts';
import { findGuestTools } from '../shares/guest-tools.ts';
import { installerFor, type InstallerInfo } from './installers.ts';
import { appendToInitrd, extractIsoFile } from './initrd.ts';
import { mediumAvailability, writeAnswerIso } from './medium.ts';
import { kernelArgs, renderAnswers, type RenderContext } from './render.ts';
import { libosinfoScriptFor, renderWithLibosinfo, type LibosinfoScript } from './libosinfo.ts';

// An express install at VM creation: everything checked first (OS has a template, the ISO has
// the installer's kernel, the answers fit the installer, the host can write the answers CD),
// then the answer files written into the new VM's folder. Where the password goes: vm.json
// never holds it, not even hashed. The files that carry it (the initrd with the answers, the
// answers CD) live in <vm>/unattended/ (0700, files 0600); the kernel and initrd are deleted
// as soon as the install's first boot has started (QEMU has read them), the answers CD when
// the VM starts the next time (lifecycle.ts).

export const UNATTENDED_DIR = 'unattended';
export const ANSWERS_ISO = 'answers.iso';

export interface UnattendedPlan {
  installer: InstallerInfo;
  answers: UnattendedAnswers;
  iso: string;
  isoVolumeId: string;
  ctx: RenderContext;
  /** the virtio-win CD found on this host (Windows), attached beside the answers */
  virtioIso: string | null;
  /** the host's libosinfo script that writes the answer file, or null for Vireo's template */
  libosinfo: LibosinfoScript | null;
}

export interface UnattendedSetup {
  /** vm.json's unattended field */
  boot: { kernel: string; initrd: string; append: string } | null;
  /** extra CD drives to add, in order (answers CD, virtio-win) */
  cdroms: string[];
}

const fail = (code: 'INVALID_ARGUMENT' | 'UNSUPPORTED', message: string, details: Record<string, unknown> = {}) => new VireoError(code, message, { field: 'unattended', ...details });

export async function resourceTemplate(resourcesDir: string, name: string): Promise<string> {
  return readFile(join(resourcesDir, 'unattended', name), 'utf8').catch(() => {
    throw new VireoError('INTERNAL', `the express-install template ${name} is missing from ${join(resourcesDir, 'unattended')}: the installation is incomplete`);
  });
}

/** Checks everything an express install needs before anything is written. */
export async function planUnattended(a: {
  answers: UnattendedAnswers;
  osId: string | undefined;
  iso: string | null;
  arch: 'x86_64' | 'aarch64';
  firmware: 'bios' | 'uefi';
  resourcesDir: string;
  /** osinfo-install-script (tests point it elsewhere) */
  libosinfoBinary?: string;
}): Promise<UnattendedPlan> {
  if (!a.iso) throw fail('INVALID_ARGUMENT', 'an express install needs the installer ISO: give --iso (the installer, not a live or cloud image)');
  const found = installerFor(a.osId ?? 'unknown');
  if (!found.ok) throw fail('UNSUPPORTED', `no express install for this VM: ${found.reason}`, { os: a.osId });
  const installer = found.installer;
  if (a.answers.productKey && !installer.productKey) throw fail('INVALID_ARGUMENT', `a product key is for Windows; ${a.osId} takes none: leave it out`);
  const r = await IsoReader.open(a.iso);
  let volumeId: string;
  try {
    const info = await r.readInfo();
    volumeId = info.primary.volumeId;
    if (installer.boot) {
      const paths = installer.boot[a.arch];
      if (!paths) throw fail('UNSUPPORTED', `no express install of ${a.osId} for ${a.arch} guests`);
      for (const p of [paths.kernel, paths.initrd]) {
        if (!(await r.findFile(info, p))) {
          throw fail('INVALID_ARGUMENT', `${a.iso} has no ${p}: an express install of ${a.osId} needs its installer ISO (netinst or DVD for Debian, live server for Ubuntu, DVD or boot ISO for Fedora/RHEL)`, { missing: p });
        }
      }
    }
  } finally {
    await r.close();
  }
  if (installer.kind === 'autoinstall' || installer.kind === 'autounattend') {
    const m = await mediumAvailability();
    if (!m.available) throw fail('UNSUPPORTED', `no express install of ${a.osId} on this host: ${m.reason}`);
  }
  const virtioIso = installer.kind === 'autounattend' ? ((await findGuestTools()).found.find((t) => t.kind === 'virtio-win' && t.attachable)?.path ?? null) : null;
  const ctx: RenderContext = { arch: a.arch, firmware: a.firmware, virtioDrivers: !!virtioIso };
  // Render once now: the answers may not fit this installer (a Windows computer name, a zone).
  renderAnswers(installer.kind, await resourceTemplate(a.resourcesDir, installer.template), a.answers, ctx);
  const { script } = await libosinfoScriptFor(a.osId!, installer.kind, a.libosinfoBinary);
  return { installer, answers: a.answers, iso: a.iso, isoVolumeId: volumeId, ctx, virtioIso, libosinfo: script };
}

/**
 * Writes the answer files into the VM folder being built (`staging`, renamed to `finalDir`
 * afterwards): paths in the result are relative to the VM folder for the kernel boot, absolute
 * (under finalDir) for CDs, as vm.json keeps them.
 */
export async function writeUnattended(plan: UnattendedPlan, staging: string, finalDir: string, resourcesDir: string): Promise<UnattendedSetup> {
  const dir = join(staging, UNATTENDED_DIR);
  await mkdir(dir, { mode: 0o700 });
  await chmod(dir, 0o700);
  const { installer, answers } = plan;
  const text = plan.libosinfo
    ? await renderWithLibosinfo(plan.libosinfo, answers, plan.ctx, dir)
    : renderAnswers(installer.kind, await resourceTemplate(resourcesDir, installer.template), answers, plan.ctx);
  const cdroms: string[] = [];
  let boot: UnattendedSetup['boot'] = null;
  const paths = installer.boot?.[plan.ctx.arch];
  if (paths) {
    const initrdName = paths.initrd.endsWith('.gz') ? 'initrd.gz' : 'initrd';
    const kernel = join(UNATTENDED_DIR, 'vmlinuz');
    const initrd = join(UNATTENDED_DIR, initrdName);
    await extractIsoFile(plan.iso, paths.kernel, join(staging, kernel));
    await extractIsoFile(plan.iso, paths.initrd, join(staging, initrd));
    // d-i reads /preseed.cfg and anaconda inst.ks=file:/ks.cfg from the initrd's root.
    if (installer.kind === 'preseed') await appendToInitrd(join(staging, initrd), [{ name: 'preseed.cfg', data: Buffer.from(text), mode: 0o600 }]);
    if (installer.kind === 'kickstart') await appendToInitrd(join(staging, initrd), [{ name: 'ks.cfg', data: Buffer.from(text), mode: 0o600 }]);
    boot = { kernel, initrd, append: kernelArgs(installer.kind, answers, { volumeId: plan.isoVolumeId }).join(' ') };
  }
  if (installer.kind === 'autoinstall' || installer.kind === 'autounattend') {
    const iso = join(dir, ANSWERS_ISO);
    const files: Record<string, string> =
      installer.kind === 'autounattend'
        ? { 'autounattend.xml': text }
        : { 'user-data': text, 'meta-data': `instance-id: vireo-install-${Date.now()}\nlocal-hostname: ${answers.hostname.split('.')[0]}\n` };
    // NoCloud finds its seed by the volume label "cidata"; Windows Setup looks on every CD.
    await writeAnswerIso(iso, installer.kind === 'autoinstall' ? 'cidata' : 'VIREO_ANSWERS', files);
    await chmod(iso, 0o600);
    cdroms.push(join(finalDir, UNATTENDED_DIR, ANSWERS_ISO));
  }
  if (plan.virtioIso) cdroms.push(plan.virtioIso);
  return { boot, cdroms };
}

/** The new VM's config with the install's first boot and answer CDs (create.ts calls this in its staging folder). */
export async function applyUnattended(plan: UnattendedPlan, config: VmConfig, staging: string, finalDir: string, resourcesDir: string): Promise<VmConfig> {
  const setup = await writeUnattended(plan, staging, finalDir, resourcesDir);
  const extra = [...config.cdrom.extra, ...setup.cdroms.map((iso) => ({ iso, bus: config.cdrom.bus }))];
  if (extra.length > MAX_EXTRA_CDROMS) {
    throw new VireoError('INVALID_ARGUMENT', `an express install needs ${setup.cdroms.length} more CD drive(s) and the VM would then have more than ${MAX_EXTRA_CDROMS + 1}`, { field: 'unattended' });
  }
  return {
    ...config,
    unattended: setup.boot,
    cdrom: { ...config.cdrom, extra },
    // A direct kernel boot comes first whatever the order (QEMU gives it boot index 0); after
    // it the disk holds the installed system. Windows Setup starts from the DVD and reboots
    // into the disk on its own ("Press any key to boot from CD" times out).
    boot: { ...config.boot, order: setup.boot ? ['disk', 'cdrom'] : config.boot.order },
  };
}
