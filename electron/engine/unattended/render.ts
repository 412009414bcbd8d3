import { VireoError } from '../../api/errors.ts';
import type { UnattendedAnswers } from '../../api/schemas/unattended.ts';
import { sha512Crypt } from '../cloud/sha-crypt.ts';
import type { InstallerKind } from './installers.ts';
import { windowsInputLocale, windowsTimeZone } from './windows-names.ts';

// Answer files from the templates in resources/unattended/: {{name}} is replaced by a value
// escaped for the file's format, {{#x}}…{{/x}} is kept when x holds and {{^x}}…{{/x}} when it
// does not. Pure (the salt may be passed), so golden files pin the output.

export interface RenderContext {
  arch: 'x86_64' | 'aarch64';
  firmware: 'bios' | 'uefi';
  /** a virtio-win CD rides along (Windows): its driver folders go into the answers */
  virtioDrivers?: boolean;
  /** crypt salt; random when absent */
  salt?: string;
}

type Values = Record<string, string | boolean>;

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Fills a template; a mark the values lack is a bug in the template, so it throws. */
export function fillTemplate(template: string, values: Values, escape: (s: string) => string = (s) => s): string {
  // Sections first (their marks sit on lines of their own: the whole line goes with them).
  const sections = template.replace(/^[ \t]*\{\{([#^])(\w+)\}\}[ \t]*\n([\s\S]*?)^[ \t]*\{\{\/\2\}\}[ \t]*\n/gm, (_all, kind: string, name: string, body: string) => {
    if (!(name in values)) throw new VireoError('INTERNAL', `answer template section {{${kind}${name}}} has no value`, { name });
    return !!values[name] === (kind === '#') ? body : '';
  });
  // {{{name}}}: markup this module wrote itself, inserted as it is; {{name}}: a value, escaped.
  return sections.replace(/\{\{(\{?)(\w+)\}?\}\}/g, (_all, raw: string, name: string) => {
    const v = values[name];
    if (typeof v !== 'string') throw new VireoError('INTERNAL', `answer template mark {{${name}}} has no value`, { name });
    return raw ? v : escape(v);
  });
}

/** d-i and kickstart want the locale without the charset, the others with it. */
const bareLocale = (l: string) => l.replace(/\.UTF-8$/, '');
const utf8Locale = (l: string) => `${bareLocale(l)}.UTF-8`;

export function answerValues(kind: InstallerKind, a: UnattendedAnswers, ctx: RenderContext): Values {
  const [language = 'en', country = 'US'] = bareLocale(a.locale).split('_');
  const [host = a.hostname, ...domain] = a.hostname.split('.');
  const common = { user: a.user, hostname: host, keyboard: a.keyboard, timezone: a.timezone };
  switch (kind) {
    case 'preseed':
      return { ...common, locale: bareLocale(a.locale), language, country, domain: domain.join('.'), passwordHash: sha512Crypt(a.password, ctx.salt) };
    case 'kickstart':
      return { ...common, locale: utf8Locale(a.locale), passwordHash: sha512Crypt(a.password, ctx.salt) };
    case 'autoinstall':
      return { ...common, locale: utf8Locale(a.locale), passwordHash: sha512Crypt(a.password, ctx.salt) };
    case 'autounattend': {
      if (host.length > 15) {
        throw new VireoError('INVALID_ARGUMENT', `hostname "${host}" is ${host.length} characters: a Windows computer name has at most 15, choose a shorter one`, { field: 'unattended.hostname' });
      }
      const uefi = ctx.firmware === 'uefi';
      const winArch = ctx.arch === 'aarch64' ? 'arm64' : 'amd64';
      return {
        user: a.user,
        computerName: host,
        arch: winArch,
        uiLanguage: `${language}-${country}`,
        inputLocale: windowsInputLocale(a.keyboard, `${language}-${country}`),
        windowsTimeZone: windowsTimeZone(a.timezone),
        passwordEncoded: Buffer.from(`${a.password}Password`, 'utf16le').toString('base64'),
        productKey: a.productKey ?? '',
        uefi,
        windowsPartition: uefi ? '3' : '2',
        virtio: !!ctx.virtioDrivers,
        driverPaths: ctx.virtioDrivers ? driverPaths(winArch) : '',
      };
    }
  }
}

/**
 * The virtio-win CD's storage, SCSI and network driver folders (its w11 and w10 ones) under every letter Windows
 * Setup may give it (the install DVD, the answers CD and the drivers CD take three of D–G, in
 * an order the firmware decides); Setup skips paths that do not exist.
 */
function driverPaths(winArch: string): string {
  const lines: string[] = [];
  let key = 1;
  for (const letter of ['D', 'E', 'F', 'G']) {
    for (const drv of ['viostor', 'vioscsi', 'NetKVM']) {
      for (const win of ['w11', 'w10']) {
        lines.push(`        <PathAndCredentials wcm:action="add" wcm:keyValue="${key++}"><Path>${letter}:\\${drv}\\${win}\\${winArch}</Path></PathAndCredentials>`);
      }
    }
  }
  return lines.join('\n');
}

/** The answer file for this installer from its template text. */
export function renderAnswers(kind: InstallerKind, template: string, a: UnattendedAnswers, ctx: RenderContext): string {
  const values = answerValues(kind, a, ctx);
  // YAML: every value as a JSON string (a valid YAML double-quoted scalar); XML: entities.
  const escape = kind === 'autoinstall' ? (s: string) => JSON.stringify(s) : kind === 'autounattend' ? xml : (s: string) => s;
  return fillTemplate(template, values, escape);
}

/** The installer's extra kernel command line (none for Windows). */
export function kernelArgs(kind: InstallerKind, a: UnattendedAnswers, iso: { volumeId: string }): string[] {
  const [language = 'en', country = 'US'] = bareLocale(a.locale).split('_');
  const host = a.hostname.split('.')[0]!;
  // The installers run on the serial console so the serial log records the install and a
  // script can follow it (vireo wait --for serial:…); the screen shows the kernel's messages.
  const console = ['console=tty0', 'console=ttyS0,115200n8'];
  switch (kind) {
    case 'preseed':
      // priority=critical: only critical questions, preseeded ones never; locale and keymap here
      // too (localechooser runs before any preseed file but the initrd's). No auto=true: it
      // would only move the locale questions after the network set-up (for a preseed/url),
      // and the answers are already in the initrd.
      // After "---": kept on the installed system's command line too (its serial console).
      return ['priority=critical', 'preseed/file=/preseed.cfg', `locale=${bareLocale(a.locale)}`, `language=${language}`, `country=${country}`, `keymap=${a.keyboard}`, `hostname=${host}`, '---', 'quiet', ...console];
    case 'kickstart':
      // inst.stage2 names the DVD by its label (spaces as \x20, as the ISO's own boot menu does)
      return [`inst.stage2=hd:LABEL=${iso.volumeId.replace(/ /g, '\\x20')}`, 'inst.ks=file:/ks.cfg', 'inst.text', ...console];
    case 'autoinstall':
      // "autoinstall" skips subiquity's "Continue with autoinstall?" question
      return ['autoinstall', 'ds=nocloud', ...console, '---'];
    case 'autounattend':
      return [];
  }
}
