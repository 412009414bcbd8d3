import { Menu, Tray, nativeImage } from 'electron';
import type { VmSummary } from '../api/types.ts';
import { trayTooltip, trayVmItems } from './shell-model.ts';

// The tray lists running VMs (they outlive the window) with Show and Stop for each.

export interface TrayActions {
  show(vmId?: string): void;
  stop(vmId: string): void;
  quit(): void;
}

export class VmTray {
  private readonly tray: Tray;

  constructor(iconPath: string, private readonly actions: TrayActions) {
    this.tray = new Tray(nativeImage.createFromPath(iconPath));
    this.tray.on('click', () => actions.show());
    this.update([]);
  }

  update(vms: readonly VmSummary[]): void {
    const items = trayVmItems(vms);
    const a = this.actions;
    this.tray.setToolTip(trayTooltip(vms));
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Show Vireo', click: () => a.show() },
        { type: 'separator' },
        ...(items.length === 0
          ? [{ label: 'No VM running', enabled: false }]
          : items.map((v) => ({
              label: v.label,
              submenu: [
                { label: 'Show', click: () => a.show(v.id) },
                { label: 'Shut Down', enabled: v.canStop, click: () => a.stop(v.id) },
              ],
            }))),
        { type: 'separator' },
        { label: 'Quit Vireo', click: () => a.quit() },
      ]),
    );
  }

  destroy(): void {
    this.tray.destroy();
  }
}
