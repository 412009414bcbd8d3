import type { HostInfo, VmConfig, VmDetails } from '../../../../electron/api/types.ts';
import type { SettingsExtra } from '../../lib/settings.ts';

/** What every settings section gets from the dialog that owns the edited config. */
export interface SectionProps {
  /** the config being edited (a copy; nothing is sent until Save) */
  cfg: VmConfig;
  /** change the edited copy */
  edit: (f: (c: VmConfig) => void) => void;
  extra: SettingsExtra;
  setExtra: (f: (x: SettingsExtra) => SettingsExtra) => void;
  /** the problem with a field path, local or from the engine */
  issue: (path: string) => string | undefined;
  /** why hardware cannot change now (the VM runs), or null */
  lock: string | null;
  running: boolean;
  host: HostInfo | null;
  vm: VmDetails;
  /** swap the disc of a running VM at once (the engine saves it too) */
  changeMedia: (iso: string | null) => Promise<void>;
}
