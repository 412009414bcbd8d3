import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { UnattendedAnswers } from '../../../../electron/api/schemas/unattended.ts';
import { renderAnswers, kernelArgs, fillTemplate, type RenderContext } from '../../../../electron/engine/unattended/render.ts';
import { installerFor, type InstallerKind } from '../../../../electron/engine/unattended/installers.ts';
import { sha512Crypt } from '../../../../electron/engine/cloud/sha-crypt.ts';

// The answer files Vireo writes for each installer: golden files (regenerate with
// VIREO_UPDATE_GOLDEN=1 and review the diff), and each parsed the way its installer reads it
// (the XML against the unattend schema's required elements, the YAML as YAML, the kickstart and
// preseed line by line) so a template edit that breaks the format fails here.

const RES = join(import.meta.dirname, '../../../../resources/unattended');
const GOLDEN = join(import.meta.dirname, 'golden');
const update = process.env.VIREO_UPDATE_GOLDEN === '1';
const SALT = 'vireoGoldenSalt1';

const answers = UnattendedAnswers.parse({
  user: 'tester',
  password: 'S3cret <&> "pw"',
  hostname: 'testbox.example.org',
  locale: 'de_DE.UTF-8',
  timezone: 'Europe/Berlin',
  keyboard: 'de',
  productKey: 'vk7jg-nphtm-c97jm-9mpgt-3v66t',
});
const linuxAnswers = { ...answers, productKey: undefined };

function render(kind: InstallerKind, ctx: Partial<RenderContext> = {}, a = kind === 'autounattend' ? answers : linuxAnswers): string {
  const template = { preseed: 'preseed.cfg', kickstart: 'kickstart.ks', autoinstall: 'autoinstall.yaml', autounattend: 'autounattend.xml' }[kind];
  return renderAnswers(kind, readFileSync(join(RES, template), 'utf8'), a, { arch: 'x86_64', firmware: 'uefi', salt: SALT, ...ctx });
}

function golden(name: string, text: string) {
  const file = join(GOLDEN, name);
  if (update) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
  }
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with VIREO_UPDATE_GOLDEN=1 to create it`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const HASH = sha512Crypt(answers.password, SALT);

describe('SHA-512 crypt', () => {
  it('matches the specification\'s test vectors', () => {
    expect(sha512Crypt('Hello world!', 'saltstring')).toBe('$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1');
    expect(sha512Crypt('Hello world!', 'saltstringsaltstring', 10000)).toBe('$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.');
  });
  it('salts each hash anew', () => expect(sha512Crypt('pw')).not.toBe(sha512Crypt('pw')));
});

describe('Debian preseed', () => {
  const text = render('preseed');
  it('matches its golden file', () => golden('preseed.cfg', text));
  it('answers localization, accounts and clock with d-i question names, the password only hashed', () => {
    const q = new Map<string, string>();
    for (const line of text.split('\n')) {
      if (!line.trim() || line.startsWith('#')) continue;
      const m = line.match(/^(\S+) (\S+) (\S+)(?: (.*))?$/);
      expect(m, `not a preseed line: ${line}`).toBeTruthy();
      q.set(m![2]!, m![4] ?? '');
    }
    expect(q.get('debian-installer/locale')).toBe('de_DE');
    expect(q.get('debian-installer/language')).toBe('de');
    expect(q.get('debian-installer/country')).toBe('DE');
    expect(q.get('keyboard-configuration/xkb-keymap')).toBe('de');
    expect(q.get('netcfg/get_hostname')).toBe('testbox');
    expect(q.get('netcfg/get_domain')).toBe('example.org');
    expect(q.get('passwd/username')).toBe('tester');
    expect(q.get('passwd/user-password-crypted')).toBe(HASH);
    expect(q.get('time/zone')).toBe('Europe/Berlin');
    expect(text).not.toContain(answers.password);
  });
  it('boots with the command line that skips the localization questions', () => {
    const args = kernelArgs('preseed', linuxAnswers, { volumeId: 'Debian 12.8.0 amd64 n' });
    expect(args).toEqual(expect.arrayContaining(['priority=critical', 'locale=de_DE', 'keymap=de', 'preseed/file=/preseed.cfg']));
    // auto=true would postpone localechooser past the network step instead of answering it first
    expect(args).not.toContain('auto=true');
  });
});

describe('Anaconda kickstart', () => {
  const text = render('kickstart');
  it('matches its golden file', () => golden('kickstart.ks', text));
  it('parses as kickstart commands with the answers', () => {
    const commands = new Map<string, string[]>();
    let inSection = false;
    for (const line of text.split('\n')) {
      if (!line.trim() || line.startsWith('#')) continue;
      if (line.startsWith('%')) {
        inSection = line !== '%end';
        continue;
      }
      if (inSection) continue;
      const [cmd, ...rest] = line.split(/\s+/);
      commands.set(cmd!, rest);
    }
    expect(commands.get('lang')).toEqual(['de_DE.UTF-8']);
    expect(commands.get('timezone')).toEqual(['Europe/Berlin', '--utc']);
    expect(commands.get('keyboard')).toContain('--vckeymap=de');
    expect(commands.get('network')).toContain('--hostname=testbox');
    expect(commands.get('user')).toEqual(expect.arrayContaining(['--name=tester', '--iscrypted', `--password=${HASH}`]));
    expect(commands.get('rootpw')).toEqual(['--lock']);
    expect(commands.has('reboot')).toBe(true);
    expect(text).toMatch(/^%packages\n[\s\S]*qemu-guest-agent\n%end$/m);
    expect(text).not.toContain(answers.password);
  });
  it('names the DVD by label and the kickstart inside the initrd', () => {
    expect(kernelArgs('kickstart', linuxAnswers, { volumeId: 'Fedora-S-dvd-x86_64-39' })).toEqual(expect.arrayContaining(['inst.stage2=hd:LABEL=Fedora-S-dvd-x86_64-39', 'inst.ks=file:/ks.cfg']));
    expect(kernelArgs('kickstart', linuxAnswers, { volumeId: 'RHEL 9 x86_64' })[0]).toBe('inst.stage2=hd:LABEL=RHEL\\x209\\x20x86_64');
  });
});

describe('Ubuntu autoinstall', () => {
  const text = render('autoinstall');
  it('matches its golden file', () => golden('autoinstall.yaml', text));
  it('is cloud-config YAML with an autoinstall section subiquity accepts', () => {
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const doc = parseYaml(text) as { autoinstall: Record<string, unknown> & { identity: Record<string, string>; keyboard: { layout: string } } };
    const ai = doc.autoinstall;
    expect(ai.version).toBe(1);
    expect(ai.locale).toBe('de_DE.UTF-8');
    expect(ai.timezone).toBe('Europe/Berlin');
    expect(ai.keyboard.layout).toBe('de');
    expect(ai.identity).toEqual({ hostname: 'testbox', username: 'tester', realname: 'tester', password: HASH });
    expect(ai.packages).toContain('qemu-guest-agent');
    expect(text).not.toContain(answers.password);
  });
  it('boots with "autoinstall" so subiquity does not ask to confirm', () => {
    expect(kernelArgs('autoinstall', linuxAnswers, { volumeId: 'Ubuntu-Server 24.04 LTS amd64' })).toEqual(expect.arrayContaining(['autoinstall', 'ds=nocloud']));
  });
});

type Xml = Record<string, unknown>;
const asList = (v: unknown): Xml[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]) as Xml[];

describe('Windows autounattend.xml (UEFI + TPM, Windows 11)', () => {
  const text = render('autounattend', { virtioDrivers: true });
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
  const doc = parser.parse(text) as { unattend: Xml };
  const passes = asList(doc.unattend.settings);
  const pass = (name: string) => passes.find((p) => p['@pass'] === name);
  const component = (passName: string, name: string) => asList(pass(passName)?.component).find((c) => c['@name'] === name);

  it('matches its golden file', () => golden('autounattend-uefi.xml', text));
  it('is unattend-schema XML: its namespace, passes windowsPE, specialize and oobeSystem', () => {
    expect(doc.unattend['@xmlns']).toBe('urn:schemas-microsoft-com:unattend');
    expect(passes.map((p) => p['@pass'])).toEqual(['windowsPE', 'specialize', 'oobeSystem']);
    for (const p of passes) {
      for (const c of asList(p.component)) {
        // every component names the same processor, key token, language and scope
        expect(c).toMatchObject({ '@processorArchitecture': 'amd64', '@publicKeyToken': '31bf3856ad364e35', '@language': 'neutral', '@versionScope': 'nonSxS' });
      }
    }
  });
  it('windowsPE: International-Core-WinPE and Setup with UEFI disk layout, EULA, product key', () => {
    const intl = component('windowsPE', 'Microsoft-Windows-International-Core-WinPE')!;
    expect(intl).toMatchObject({ UILanguage: 'de-DE', InputLocale: 'de-DE', SystemLocale: 'de-DE', UserLocale: 'de-DE', SetupUILanguage: { UILanguage: 'de-DE' } });
    const setup = component('windowsPE', 'Microsoft-Windows-Setup') as Xml & { DiskConfiguration: Xml; ImageInstall: Xml; UserData: Xml };
    const disk = setup.DiskConfiguration.Disk as Xml & { CreatePartitions: Xml; ModifyPartitions: Xml };
    expect(disk.DiskID).toBe('0');
    expect(disk.WillWipeDisk).toBe('true');
    expect(asList(disk.CreatePartitions.CreatePartition).map((p) => p.Type)).toEqual(['EFI', 'MSR', 'Primary']);
    expect(asList(disk.ModifyPartitions.ModifyPartition).map((p) => p.Format)).toEqual(['FAT32', 'NTFS']);
    expect((setup.ImageInstall.OSImage as Xml).InstallTo).toEqual({ DiskID: '0', PartitionID: '3' });
    expect(setup.UserData.AcceptEula).toBe('true');
    expect((setup.UserData.ProductKey as Xml).Key).toBe('VK7JG-NPHTM-C97JM-9MPGT-3V66T');
  });
  it('windowsPE: the virtio drivers of the virtio-win CD', () => {
    const pnp = component('windowsPE', 'Microsoft-Windows-PnpCustomizationsWinPE') as Xml & { DriverPaths: Xml };
    const paths = asList(pnp.DriverPaths.PathAndCredentials).map((p) => p.Path);
    expect(paths).toContain('E:\\viostor\\w11\\amd64');
    expect(paths).toContain('E:\\NetKVM\\w11\\amd64');
  });
  it('specialize: the computer name; oobeSystem: International-Core, Shell-Setup with the local administrator', () => {
    expect(component('specialize', 'Microsoft-Windows-Shell-Setup')).toMatchObject({ ComputerName: 'testbox', TimeZone: 'W. Europe Standard Time' });
    expect(component('oobeSystem', 'Microsoft-Windows-International-Core')).toMatchObject({ UILanguage: 'de-DE', UserLocale: 'de-DE' });
    const shell = component('oobeSystem', 'Microsoft-Windows-Shell-Setup') as Xml & { UserAccounts: { LocalAccounts: { LocalAccount: Xml & { Password: Xml } } }; OOBE: Xml };
    const account = shell.UserAccounts.LocalAccounts.LocalAccount;
    expect(account).toMatchObject({ Name: 'tester', Group: 'Administrators' });
    expect(account.Password.PlainText).toBe('false');
    // Windows' encoding: base64 of the UTF-16LE password followed by "Password"
    expect(Buffer.from(String(account.Password.Value), 'base64').toString('utf16le')).toBe(`${answers.password}Password`);
    expect(shell.OOBE).toMatchObject({ HideEULAPage: 'true', HideOnlineAccountScreens: 'true' });
    expect(text).not.toContain(answers.password);
  });
  it('BIOS without a key or drivers: MBR layout, the first edition, no empty ProductKey', () => {
    const bios = parser.parse(render('autounattend', { firmware: 'bios' }, { ...answers, productKey: undefined })) as { unattend: Xml };
    golden('autounattend-bios.xml', render('autounattend', { firmware: 'bios' }, { ...answers, productKey: undefined }));
    const setup = asList(asList(bios.unattend.settings)[0]!.component).find((c) => c['@name'] === 'Microsoft-Windows-Setup') as Xml & { DiskConfiguration: { Disk: Xml & { CreatePartitions: Xml } }; UserData: Xml; ImageInstall: { OSImage: Xml } };
    expect(asList(setup.DiskConfiguration.Disk.CreatePartitions.CreatePartition).map((p) => p.Type)).toEqual(['Primary', 'Primary']);
    expect(setup.UserData.ProductKey).toBeUndefined();
    expect(setup.ImageInstall.OSImage.InstallFrom).toBeDefined();
    expect(asList(asList(bios.unattend.settings)[0]!.component).some((c) => c['@name'] === 'Microsoft-Windows-PnpCustomizationsWinPE')).toBe(false);
  });
  it('refuses what Windows cannot take, saying what to do', () => {
    expect(() => render('autounattend', {}, { ...answers, hostname: 'a-very-long-hostname' })).toThrow(/at most 15/);
    expect(() => render('autounattend', {}, { ...answers, timezone: 'Antarctica/Troll' })).toThrow(/no Windows time zone/);
  });
});

describe('which OSes get an express install', () => {
  it('has a template for Debian, Ubuntu 20.04+, Fedora/RHEL and Windows 10/11, and says why not otherwise', () => {
    const kind = (id: string) => {
      const r = installerFor(id);
      return r.ok ? r.installer.kind : r.reason;
    };
    expect(kind('debian12')).toBe('preseed');
    expect(kind('ubuntu24.04')).toBe('autoinstall');
    expect(kind('fedora37')).toBe('kickstart');
    expect(kind('rhel9.1')).toBe('kickstart');
    expect(kind('win11')).toBe('autounattend');
    expect(kind('ubuntu18.04')).toMatch(/predates autoinstall/);
    expect(kind('winxp')).toMatch(/predates/);
    expect(kind('msdos6.22')).toMatch(/no express-install template/);
    expect(kind('unknown')).toMatch(/not known/);
  });
});

describe('answers checked at the boundary', () => {
  it('refuses values that could break out of an answer file line', () => {
    const base = { user: 'tester', password: 'pw', hostname: 'box' };
    expect(UnattendedAnswers.safeParse(base).success).toBe(true);
    expect(UnattendedAnswers.safeParse({ ...base, password: 'pw\nd-i passwd/root-login boolean true' }).success).toBe(false);
    expect(UnattendedAnswers.safeParse({ ...base, user: 'Root Admin' }).success).toBe(false);
    expect(UnattendedAnswers.safeParse({ ...base, hostname: 'box;reboot' }).success).toBe(false);
    expect(UnattendedAnswers.safeParse({ ...base, timezone: 'Europe/Berlin\n' }).success).toBe(false);
    expect(UnattendedAnswers.safeParse({ ...base, productKey: 'ABCDE' }).success).toBe(false);
  });
  it('fills templates only with known marks', () => {
    expect(() => fillTemplate('a {{missing}} b', {})).toThrow(/has no value/);
    expect(fillTemplate('x\n{{#on}}\nkept\n{{/on}}\n{{^on}}\ndropped\n{{/on}}\n', { on: true })).toBe('x\nkept\n');
  });
});
