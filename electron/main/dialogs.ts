import { dialog, type BrowserWindow } from 'electron';
import { closeDialogText, CLOSE_DIALOG_CHOICES, type CloseAction } from './lifecycle.ts';
import { fileDialogOptions, type FileKind } from './shell-model.ts';

// Native dialogs. The web UI (vireo serve) has no native dialog and browses with files.list;
// in Electron the menu opens these and hands the path to the window as a shell event.

export async function chooseFile(win: BrowserWindow | null, kind: FileKind): Promise<string | null> {
  const o = fileDialogOptions(kind);
  const opts = { title: o.title, filters: o.filters, properties: ['openFile' as const] };
  const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
  return r.canceled ? null : (r.filePaths[0] ?? null);
}

export async function askCloseChoice(win: BrowserWindow | null, runningVms: number): Promise<{ choice: CloseAction | 'cancel'; remember: boolean }> {
  const t = closeDialogText(runningVms);
  const opts = {
    type: 'question' as const,
    message: t.message,
    detail: t.detail,
    buttons: CLOSE_DIALOG_CHOICES.map((c) => c.label),
    defaultId: 0,
    cancelId: CLOSE_DIALOG_CHOICES.findIndex((c) => c.choice === 'cancel'),
    checkboxLabel: 'Remember my choice',
    noLink: true,
  };
  const r = win ? await dialog.showMessageBox(win, opts) : await dialog.showMessageBox(opts);
  return { choice: CLOSE_DIALOG_CHOICES[r.response]?.choice ?? 'cancel', remember: r.checkboxChecked };
}
