import { Menu, shell, type MenuItemConstructorOptions } from 'electron';
import { externalUrlAllowed } from './security.ts';
import { menuSpec, type MenuCommand } from './shell-model.ts';

// Application menu built from menuSpec (pure, tested); commands go to onCommand.
export function installMenu(platform: NodeJS.Platform, onCommand: (c: MenuCommand) => void): void {
  const template: MenuItemConstructorOptions[] = menuSpec(platform).map((m) => ({
    label: m.label,
    submenu: m.items.map((it): MenuItemConstructorOptions => {
      if ('separator' in it) return { type: 'separator' };
      const item: MenuItemConstructorOptions = { label: it.label };
      if (it.accelerator) item.accelerator = it.accelerator;
      if (it.role) item.role = it.role as MenuItemConstructorOptions['role'];
      else if (it.command) {
        const c = it.command;
        item.click = () => onCommand(c);
      } else if (it.url && externalUrlAllowed(it.url)) {
        const url = it.url;
        item.click = () => void shell.openExternal(url);
      }
      return item;
    }),
  }));
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
