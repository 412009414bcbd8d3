import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { VireoError } from '../../api/errors.ts';
import type { Args } from '../../api/contract.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo create NAME --cloud-image FILE [--user U] [--password P | --password-file F]
// [--ssh-key FILE.pub]… [--hostname H] [--user-data FILE] [--network-config FILE] [--no-guest-agent]`:
// a VM from a cloud image with a NoCloud seed (engine/cloud). --user, --password,
// --password-file and --hostname are the create command's own (shared with the express install,
// commands/unattended.ts); with --cloud-image they are the seed's. Files are read here and their
// contents sent, so the engine (maybe a `vireo serve` elsewhere) never reads the user's paths.

export const registerCloud: Registrar = (kit: CliKit) => {
  const create = kit.program.commands.find((c) => c.name() === 'create');
  if (create) addCloudOptions(create);
};

function addCloudOptions(cmd: Command): Command {
  return cmd
    .option('--cloud-image <file>', 'cloud image (qcow2, raw or vmdk: Debian/Ubuntu/Fedora generic cloud images): copied into the VM, grown to --disk, with a NoCloud seed; --user/--password/--hostname then set the seed')
    .option('--ssh-key <file>', 'cloud image: an SSH public key file (.pub) to authorise; repeatable (without one, a key is generated for `vireo ssh`)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--user-data <file>', 'cloud image: extra user-data (#cloud-config is merged into Vireo\'s; a #! script runs beside it)')
    .option('--network-config <file>', 'cloud image: a NoCloud network-config (default: DHCP on the first card)')
    .option('--no-guest-agent', 'cloud image: do not install and start qemu-guest-agent through cloud-init');
}

const SHARED = ['user', 'password', 'passwordFile', 'hostname'] as const;
const OWN = ['sshKey', 'userData', 'networkConfig'] as const;

const usage = (message: string) => {
  process.stderr.write(`vireo: ${message}\n`);
  return new CommanderError(2, 'vireo.usage', message);
};

async function readText(file: string, what: string): Promise<string> {
  return readFile(resolve(file), 'utf8').catch((e: Error) => {
    throw new VireoError('NOT_FOUND', `cannot read the ${what} file ${file}: ${e.message}`, { path: file });
  });
}

/**
 * The `cloud` argument of vms.create from the create command's options. It takes the shared
 * flags out of `o` once used, so the express-install check that runs after it does not see
 * them as strays.
 */
export async function cloudCreateArg(o: Record<string, unknown>): Promise<Pick<Args<'vms.create'>, 'cloud'>> {
  if (o.cloudImage === undefined) {
    const stray = [...OWN.filter((k) => o[k] !== undefined), ...(o.guestAgent === false ? ['noGuestAgent'] : [])];
    if (stray.length) throw usage(`--${stray.map(kebab).join(', --')} belong to a cloud image: add --cloud-image FILE (or leave them out)`);
    return {};
  }
  if (o.unattended) throw usage('--cloud-image boots a ready-made image; --unattended answers an installer: choose one');
  if (o.iso !== undefined || o.importDisk !== undefined) throw usage('--cloud-image is the VM\'s disk: leave out --iso and --import-disk');
  if (o.password !== undefined && o.passwordFile !== undefined) throw usage('give the password once: --password or --password-file');
  let password = o.password as string | undefined;
  if (o.passwordFile !== undefined) password = (await readText(String(o.passwordFile), 'password')).split(/\r?\n/)[0];
  const sshKeys: string[] = [];
  for (const f of (o.sshKey as string[] | undefined) ?? []) {
    const text = await readText(f, 'SSH key');
    if (/PRIVATE KEY/.test(text)) throw usage(`${f} is a private key: give its public half (${f}.pub)`);
    sshKeys.push(...text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  const cloud: NonNullable<Args<'vms.create'>['cloud']> = {
    image: resolve(String(o.cloudImage)),
    ...(o.user !== undefined ? { user: String(o.user) } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(sshKeys.length ? { sshKeys } : {}),
    ...(o.hostname !== undefined ? { hostname: String(o.hostname) } : {}),
    ...(o.userData !== undefined ? { userData: await readText(String(o.userData), 'user-data') } : {}),
    ...(o.networkConfig !== undefined ? { networkConfig: await readText(String(o.networkConfig), 'network-config') } : {}),
    ...(o.guestAgent === false ? { installAgent: false } : {}),
  };
  for (const k of SHARED) delete o[k];
  return { cloud };
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
