import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readConfig } from '../../../electron/engine/library/config-store.ts';
import { CONFIG_SCHEMA_VERSION } from '../../../electron/api/schemas/vm-config.ts';
import { buildArgv, type ArgvContext } from '../../../electron/engine/qemu/argv/index.ts';
import { vmPaths } from '../../../electron/engine/paths.ts';
import { CAPS_7_2 } from './golden/fixtures.ts';

// Acceptance 4 of issue 12: vm.json files written by the v1 engine (test/fixtures/v1-configs,
// made with `vms.create` + `vms.update` before config v2 existed) load as v2, and QEMU gets
// exactly the argv the v1 engine gave it. The *.v1-argv.json files were recorded with the v1
// code and are never regenerated: they are the "before".

const DIR = join(import.meta.dirname, '../../fixtures/v1-configs');

/**
 * The argv changes made on purpose since v1, applied to the recorded "before" (which stays as
 * recorded). Each is a device option that changes no disk, address or MAC the guest knows:
 * - issue 18: the memory balloon reports free pages and deflates on OOM, so idle guests hand
 *   memory back to the host.
 */
function sinceV1(argv: string[]): string[] {
  return argv.map((a) => (a === 'virtio-balloon-pci,id=balloon0' ? 'virtio-balloon-pci,id=balloon0,free-page-reporting=on,deflate-on-oom=on' : a));
}
interface Host {
  vmDir: string;
  runtimeDir: string;
  accel: ArgvContext['accel'];
  pidFile: string;
  serialLog: string;
  qmpCmdSocket: string;
  firmware?: ArgvContext['firmware'];
  tpmSocket?: string;
}
const hosts = JSON.parse(readFileSync(join(DIR, 'hosts.json'), 'utf8')) as Record<string, Host>;
const names = readdirSync(DIR).filter((f) => f.endsWith('.vm.json')).map((f) => f.slice(0, -'.vm.json'.length));

describe('v1 vm.json files', () => {
  it('are all there, each with its recorded argv and host', () => {
    expect(names.sort()).toEqual(['legacy-dos-network-none', 'plain-debian', 'windows11-uefi-sb-tpm-forwards']);
    for (const n of names) expect(Object.keys(hosts)).toContain(n);
  });

  for (const name of names) {
    it(`${name} loads as v${CONFIG_SCHEMA_VERSION} and gives the v1 argv`, async () => {
      const raw = JSON.parse(readFileSync(join(DIR, `${name}.vm.json`), 'utf8'));
      expect(raw.schemaVersion).toBe(1);
      const config = await readConfig(join(DIR, `${name}.vm.json`));
      expect(config.schemaVersion).toBe(CONFIG_SCHEMA_VERSION);
      expect(config).not.toHaveProperty('network');
      expect(config).toMatchObject({ arch: 'x86_64', backend: 'qemu' });
      if (raw.network.mode === 'none') expect(config.networks).toEqual([]);
      else expect(config.networks).toEqual([{ id: 'net0', mode: 'user', model: raw.network.model, mac: raw.network.mac, portForwards: raw.network.portForwards }]);
      // Everything else carries over untouched.
      const { network: _n, schemaVersion: _v, ...rest } = raw;
      expect(config).toMatchObject(rest);

      // The files and sockets as the engine names them (paths.ts) for this library layout.
      const h = hosts[name]!;
      const paths = vmPaths(dirname(dirname(h.vmDir)), config.id, dirname(h.runtimeDir));
      expect([paths.dir, paths.runtime, paths.pidFile, paths.serialLog, paths.qmpCmdSocket]).toEqual([h.vmDir, h.runtimeDir, h.pidFile, h.serialLog, h.qmpCmdSocket]);
      const argv = buildArgv(config, {
        vmDir: paths.dir, accel: h.accel, caps: CAPS_7_2, platform: 'linux', firmware: h.firmware, tpmSocket: h.tpmSocket,
        pidFile: paths.pidFile, serialLog: paths.serialLog,
        sockets: { qmp: paths.qmpSocket, qmpCmd: paths.qmpCmdSocket, vnc: paths.vncSocket, serial: paths.serialSocket },
      });
      expect(argv).toEqual(sinceV1(JSON.parse(readFileSync(join(DIR, `${name}.v1-argv.json`), 'utf8'))));
    });
  }
});
