import { z } from 'zod';
import { method } from '../define.ts';
import { VmName, VmRef } from './common.ts';
import type { AppliancePreview, ApplianceExport, VirtualBoxLibrary } from '../appliance-types.ts';
import type { VmDetails } from '../types.ts';

// Appliance methods (electron/engine/appliance/), spread into the one contract. Paths are
// the caller's: a web client's go through the library's path policy in the handlers.

const AppliancePath = z
  .string()
  .min(1, 'no appliance given: the path of an .ova, .ovf, .vbox or .vireo file, or a .utm folder')
  .max(4096)
  .refine((p) => !p.includes('\0'), 'the path contains a NUL character');

export const applianceMethods = {
  'appliance.preview': method<AppliancePreview>()(
    z.object({ path: AppliancePath }).strict(),
    'Read an appliance (OVA, OVF, VirtualBox .vbox, UTM .utm, Vireo bundle) and say what an import would make of it: the settings mapped and those dropped, with why',
  ),
  'appliance.import': method<VmDetails>()(
    z.object({ path: AppliancePath, name: VmName.optional() }).strict(),
    'Import an appliance as a new VM (a job with progress and cancel): manifest verified, disks converted to qcow2; a failed or cancelled import leaves nothing behind',
  ),
  'appliance.virtualbox': method<VirtualBoxLibrary>()(
    z.object({ dir: AppliancePath.optional() }).strict(),
    "The machines of a VirtualBox library (<dir>/*/*.vbox; default ~/VirtualBox VMs), each with what it is, to import with appliance.import",
  ),
  'appliance.export': method<ApplianceExport>()(
    z.object({ vm: VmRef, format: z.enum(['ova', 'bundle']), output: AppliancePath }).strict(),
    'Export a stopped VM (a job): an OVA (OVF 1.0, streamOptimized VMDKs, SHA256 manifest) or a Vireo bundle (.vireo: config, disks with snapshots, NVRAM, TPM)',
  ),
};
