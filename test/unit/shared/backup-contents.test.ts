import { describe, expect, it } from 'vitest';
import { backupContents } from '../../../electron/shared/backup-contents.ts';

const disk = { disk: 'disk0', file: 'x-disk0.qcow2', bytes: 1, virtualSize: 1 };

describe('backupContents', () => {
  it('names the disks and the firmware state a backup holds', () => {
    expect(backupContents({ disks: [disk], firmware: null })).toBe('1 disk');
    expect(backupContents({ disks: [disk, { ...disk, disk: 'disk1' }], firmware: { nvram: 'x-nvram.qcow2', tpm: ['x-tpm__tpm2-00.permall'] } })).toBe('2 disks, UEFI variables, TPM state');
    expect(backupContents({ disks: [disk], firmware: { nvram: null, tpm: ['x-tpm__tpm2-00.permall'] } })).toBe('1 disk, TPM state');
    expect(backupContents({ disks: [disk], firmware: { nvram: 'x-nvram.fd', tpm: [] } })).toBe('1 disk, UEFI variables');
  });
});
