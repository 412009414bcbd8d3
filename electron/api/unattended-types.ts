// Express install (engine/unattended/): what unattended.availability answers.

export type UnattendedInstaller = 'preseed' | 'kickstart' | 'autoinstall' | 'autounattend';

export interface UnattendedAvailability {
  os: string;
  /** an express install can be made for this OS on this host */
  available: boolean;
  /** how the answers are written (null: Vireo has no template for this OS) */
  installer: UnattendedInstaller | null;
  /** a Windows product key means something to this installer */
  productKey: boolean;
  /** why not, and what to do */
  reason: string | null;
  /** Windows: the virtio-win CD found on this host (its drivers go into the answers), else null */
  virtioWin: string | null;
  /** Windows: the folders looked in for virtio-win */
  searched: string[];
  /** who writes the answer file: the host's libosinfo script ("libosinfo jeos script fedora.ks") or Vireo's template, and why not libosinfo */
  answersFrom: string | null;
}
