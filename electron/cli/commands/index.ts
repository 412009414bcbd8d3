import type { Registrar } from '../kit.ts';
import { registerUsb } from './usb.ts';
import { registerDrives } from './drives.ts';
import { registerAgent } from './agent.ts';
import { registerDisplay } from './display.ts';
import { registerNet } from './net.ts';
import { registerForwards } from './forwards.ts';
import { registerShares } from './shares.ts';
import { registerLimits } from './limits.ts';
import { registerUnattended } from './unattended.ts';
import { registerRun } from './run.ts';
import { registerWait } from './wait.ts';
import { registerSsh } from './ssh.ts';
import { registerVmFile } from './vmfile.ts';
import { registerCloud } from './cloud.ts';
import { registerTop } from './top.ts';
import { registerHost } from './host.ts';
import { registerMigrate } from './migrate.ts';
import { registerBackup } from './backup.ts';
import { registerGroups } from './groups.ts';
import { registerAppliance } from './appliance.ts';

// Feature areas' command groups, in the order `vireo --help` lists them after the core ones.
// `net` comes first: other areas attach subcommands to its group (netGroup in net.ts).
export const REGISTRARS: Registrar[] = [registerNet, registerForwards, registerDisplay, registerAgent, registerUsb, registerDrives, registerShares, registerUnattended, registerRun, registerWait, registerSsh, registerTop, registerVmFile, registerCloud, registerLimits, registerGroups, registerBackup, registerAppliance, registerHost, registerMigrate];
