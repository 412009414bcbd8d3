/**
 * Escape a value placed inside a comma-separated QEMU option (`-blockdev file=...,x=y`):
 * QEMU's option parser reads `,,` as a literal comma. Every user- or host-controlled value
 * in such an option goes through here; values passed as a whole argument (-pidfile) do not.
 * The one comma-doubling in the engine: qemu-img's and the accelerator probe's options use
 * it too.
 */
export function qemuOptEscape(value: string): string {
  return value.replaceAll(',', ',,');
}
