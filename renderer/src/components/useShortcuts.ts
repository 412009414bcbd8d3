import { useEffect, useRef } from 'react';

// Keyboard shortcuts of the VM toolbar (Ctrl+N is the app's, in App.tsx; F11 is the screen's,
// in DisplayView). Delete deletes the selected VM, after its usual confirmation, only when the
// key is not meant for something else: a text field, an open dialog, the VM's own screen or
// console (whose keys belong to the guest).

const EDITABLE = 'input, textarea, select, [contenteditable=""], [contenteditable="true"]';
const GUEST_KEYS = '[data-testid="vm-screen-area"], [data-testid="serial-console"]';

export function isForTheApp(target: EventTarget | null): boolean {
  if (document.querySelector('[data-vireo-dialog], [role="menu"]')) return false;
  if (!(target instanceof Element)) return true;
  return !target.closest(EDITABLE) && !target.closest(GUEST_KEYS);
}

export function useVmShortcuts({ onDelete }: { onDelete: () => void }): void {
  const handlers = useRef({ onDelete });
  handlers.current = { onDelete };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Delete' || e.ctrlKey || e.altKey || e.metaKey || e.shiftKey || !isForTheApp(e.target)) return;
      e.preventDefault();
      handlers.current.onDelete();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}
