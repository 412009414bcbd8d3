import type { Job, VmState, VmSummary } from '../api/types.ts';

// What the tray, the menus, the dialogs and the notifications show, as plain data; tray.ts,
// menu.ts, dialogs.ts and notify.ts turn it into Electron objects.

export interface TrayVmItem { id: string; label: string; state: VmState; canStop: boolean }

const TRAY_STATES = new Set<VmState>(['starting', 'running', 'paused', 'saving', 'restoring', 'stopping']);

/** Running VMs (sorted by name) with a label that says their state when it is not plain running. */
export function trayVmItems(vms: readonly VmSummary[]): TrayVmItem[] {
  return vms
    .filter((v) => TRAY_STATES.has(v.state))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((v) => ({
      id: v.id,
      label: v.state === 'running' ? v.name : `${v.name} (${v.state})`,
      state: v.state,
      canStop: v.state === 'running' || v.state === 'paused',
    }));
}

export function trayTooltip(vms: readonly VmSummary[]): string {
  const n = trayVmItems(vms).length;
  return n === 0 ? 'Vireo: no VM running' : `Vireo: ${n} VM${n === 1 ? '' : 's'} running`;
}

/** A desktop notification when a job ends, null while it runs (progress lives in the window). */
export function jobNotification(job: Job): { title: string; body: string } | null {
  switch (job.state) {
    case 'done':
      return { title: `${job.title}: done`, body: 'Finished.' };
    case 'failed':
      return { title: `${job.title}: failed`, body: job.error ? `${job.error.message} (${job.error.code})` : 'The job failed.' };
    case 'cancelled':
      return { title: `${job.title}: cancelled`, body: 'Cancelled; nothing was left half-done.' };
    default:
      return null;
  }
}

export type FileKind = 'iso' | 'disk';

/** Native open-dialog filters: install media, or disk images qemu-img can read. */
export function fileDialogOptions(kind: FileKind): { title: string; filters: { name: string; extensions: string[] }[] } {
  return kind === 'iso'
    ? { title: 'Choose an installation image', filters: [{ name: 'Disc images', extensions: ['iso'] }, { name: 'All files', extensions: ['*'] }] }
    : {
        title: 'Choose a disk image',
        filters: [
          { name: 'Disk images', extensions: ['qcow2', 'img', 'raw', 'vmdk', 'vdi', 'vhd', 'vhdx'] },
          { name: 'All files', extensions: ['*'] },
        ],
      };
}

/**
 * Menu commands the renderer reacts to. The menu calls the engine directly where it can
 * (stop a VM); commands that need the UI (open the wizard) go to the window as a shell event.
 */
export type MenuCommand = 'new-vm' | 'open-iso' | 'import-disk' | 'settings' | 'host-info' | 'about';

export interface MenuSpec {
  label: string;
  items: Array<{ label: string; accelerator?: string; command?: MenuCommand; role?: string; url?: string } | { separator: true }>;
}

/** App / VM / View / Help menus; on macOS the first menu carries the app name. */
export function menuSpec(platform: NodeJS.Platform): MenuSpec[] {
  const mac = platform === 'darwin';
  const quit = { label: mac ? 'Quit Vireo' : 'Quit', accelerator: 'CmdOrCtrl+Q', role: 'quit' };
  return [
    {
      label: mac ? 'Vireo' : 'File',
      items: [
        ...(mac ? [{ label: 'About Vireo', role: 'about' }, { separator: true as const }] : []),
        { label: 'New Virtual Machine…', accelerator: 'CmdOrCtrl+N', command: 'new-vm' },
        { label: 'Open Installation Image…', accelerator: 'CmdOrCtrl+O', command: 'open-iso' },
        { label: 'Import Disk Image…', accelerator: 'CmdOrCtrl+I', command: 'import-disk' },
        { separator: true },
        { label: 'Host Information', command: 'host-info' },
        { separator: true },
        quit,
      ],
    },
    { label: 'Edit', items: [{ label: 'Undo', role: 'undo' }, { label: 'Redo', role: 'redo' }, { separator: true }, { label: 'Cut', role: 'cut' }, { label: 'Copy', role: 'copy' }, { label: 'Paste', role: 'paste' }, { label: 'Select All', role: 'selectAll' }] },
    {
      label: 'VM',
      items: [{ label: 'Settings…', accelerator: 'CmdOrCtrl+,', command: 'settings' }],
    },
    {
      label: 'View',
      items: [
        { label: 'Reload', role: 'reload', accelerator: 'CmdOrCtrl+R' },
        { label: 'Actual Size', role: 'resetZoom', accelerator: 'CmdOrCtrl+0' },
        { label: 'Zoom In', role: 'zoomIn', accelerator: 'CmdOrCtrl+Plus' },
        { label: 'Zoom Out', role: 'zoomOut', accelerator: 'CmdOrCtrl+-' },
        { separator: true },
        { label: 'Toggle Full Screen', role: 'togglefullscreen', accelerator: mac ? 'Ctrl+Cmd+F' : 'F11' },
      ],
    },
    {
      label: 'Help',
      items: [
        ...(mac ? [] : [{ label: 'About Vireo', command: 'about' as const }]),
        { label: 'QEMU Documentation', url: 'https://www.qemu.org/docs/master/' },
      ],
    },
  ];
}
