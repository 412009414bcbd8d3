import { readFile } from 'node:fs/promises';
import { CommanderError, Option, type Command } from 'commander';
import { VireoError } from '../../api/errors.ts';
import type { Args } from '../../api/contract.ts';
import type { UnattendedAvailability } from '../../api/types.ts';
import type { CliKit, Registrar } from '../kit.ts';

// Express install from the command line: `vireo create NAME --iso X --unattended --user U
// --password-file F --hostname H [--locale L --timezone Z --keyboard K --product-key KEY]`,
// and `vireo unattended OS` saying whether an OS gets one here and why not. The flags are added
// to the core `create` command, which passes what unattendedCreateArg builds to vms.create.

export const registerUnattended: Registrar = (kit: CliKit) => {
  const create = kit.program.commands.find((c) => c.name() === 'create');
  if (create) addUnattendedOptions(create);
  kit.program
    .command('unattended <os>')
    .description('whether an express (unattended) install is offered for an OS id here, through which installer, and why not')
    .action(kit.action(async (os: string) => {
      const r = await kit.call('unattended.availability', { os });
      kit.print(r, ((a: UnattendedAvailability) =>
        a.available
          ? `${a.os}: express install with ${a.installer}${a.productKey ? ' (a product key may be given)' : ''}${a.installer === 'autounattend' ? `; virtio drivers: ${a.virtioWin ?? `none found (looked in ${a.searched.join(', ')})`}` : ''}\nanswers written by ${a.answersFrom}`
          : `${a.os}: no express install: ${a.reason}`) as (r: never) => string);
      if (!r.available) process.exitCode = 1;
    }));
};

export function addUnattendedOptions(cmd: Command): Command {
  return cmd
    .option('--unattended', 'express install: answer the installer (Debian, Ubuntu, Fedora/RHEL, Windows; see `vireo unattended OS`)')
    .option('--user <name>', 'express install: the user to create (an administrator)')
    .option('--password <pw>', 'express install: the user\'s password (visible to other local users in the process list: prefer --password-file)')
    .option('--password-file <file>', 'express install: read the password from this file\'s first line ("-": standard input)')
    .option('--hostname <name>', 'express install: the host (computer) name')
    .option('--locale <locale>', 'express install: language and country, e.g. en_US or de_DE.UTF-8 (default en_US.UTF-8)')
    .option('--timezone <zone>', 'express install: IANA time zone, e.g. Europe/Berlin (default UTC)')
    .option('--keyboard <layout>', 'express install: keyboard layout, e.g. us or de (default us)')
    .addOption(new Option('--product-key <key>', 'express install (Windows): the product key, XXXXX-XXXXX-XXXXX-XXXXX-XXXXX'));
}

const ANSWER_FLAGS = ['user', 'password', 'passwordFile', 'hostname', 'locale', 'timezone', 'keyboard', 'productKey'] as const;

/** The `unattended` argument of vms.create from the create command's options (none without --unattended). */
export async function unattendedCreateArg(o: Record<string, unknown>): Promise<Pick<Args<'vms.create'>, 'unattended'>> {
  // a wrong combination of flags is a usage error (exit 2), as commander's own are
  const usage = (message: string) => {
    // commander prints its own usage errors before throwing; this one is ours to print
    process.stderr.write(`vireo: ${message}\n`);
    return new CommanderError(2, 'vireo.usage', message);
  };
  if (!o.unattended) {
    const stray = ANSWER_FLAGS.filter((k) => o[k] !== undefined);
    if (stray.length) throw usage(`--${stray.map(kebab).join(', --')} belong to an express install: add --unattended (or leave them out)`);
    return {};
  }
  if (o.password !== undefined && o.passwordFile !== undefined) throw usage('give the password once: --password or --password-file');
  let password = o.password as string | undefined;
  if (o.passwordFile !== undefined) {
    const file = String(o.passwordFile);
    const text = file === '-' ? await readStdin() : await readFile(file, 'utf8').catch((e: Error) => {
      throw new VireoError('NOT_FOUND', `cannot read the password file ${file}: ${e.message}`, { path: file });
    });
    password = text.split(/\r?\n/)[0];
  }
  const missing = [['user', o.user], ['password', password], ['hostname', o.hostname]].filter(([, v]) => v === undefined).map(([k]) => `--${k}`);
  if (missing.length) throw usage(`an express install needs ${missing.join(', ')} (the password also as --password-file)`);
  const opt = (k: string) => (o[k] !== undefined ? { [k]: String(o[k]) } : {});
  return {
    unattended: { user: String(o.user), password: password!, hostname: String(o.hostname), ...opt('locale'), ...opt('timezone'), ...opt('keyboard'), ...opt('productKey') },
  };
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
