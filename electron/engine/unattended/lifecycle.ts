import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { Library, LibraryEntry } from '../library/library.ts';
import { ANSWERS_ISO, UNATTENDED_DIR } from './prepare.ts';

// After an express install's first boot the answers go (prepare.ts says where they were):
// - once that boot has started, QEMU has read the installer's kernel and initrd, so both files
//   are deleted and vm.json's `unattended` is cleared (the next start boots the disk);
// - the answers CD is read by the installer during that whole run (Windows Setup reboots
//   inside it, subiquity reads its seed late), so it is ejected and deleted when the VM starts
//   again; a marker file says the first boot has happened.
// Both run from VmService.startHooks, so they hold whichever engine starts the VM.

const BOOTED_MARK = 'first-boot-started';

export function unattendedStartHooks(library: Library) {
  return {
    async before(entry: LibraryEntry, config: VmConfig): Promise<VmConfig> {
      const dir = join(entry.paths.dir, UNATTENDED_DIR);
      if (!existsSync(join(dir, BOOTED_MARK))) return config;
      const answers = join(dir, ANSWERS_ISO);
      const next: VmConfig = { ...config, cdrom: { ...config.cdrom, extra: config.cdrom.extra.filter((d) => d.iso !== answers) } };
      if (next.cdrom.extra.length !== config.cdrom.extra.length) await library.saveConfig(entry, next);
      await rm(dir, { recursive: true, force: true });
      return next;
    },
    async after(entry: LibraryEntry, config: VmConfig): Promise<void> {
      const dir = join(entry.paths.dir, UNATTENDED_DIR);
      if (!existsSync(dir) || existsSync(join(dir, BOOTED_MARK))) return;
      if (config.unattended) {
        const fresh = library.get(entry.id)?.config ?? config;
        await library.saveConfig(entry, { ...fresh, unattended: null });
        await Promise.all([config.unattended.kernel, config.unattended.initrd].map((f) => rm(join(entry.paths.dir, f), { force: true })));
      }
      if (existsSync(join(dir, ANSWERS_ISO))) await writeFile(join(dir, BOOTED_MARK), `${new Date().toISOString()}\n`, { mode: 0o600 });
      else await rm(dir, { recursive: true, force: true });
    },
  };
}
