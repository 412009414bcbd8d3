import { VireoError } from '../../api/errors.ts';

// Windows names time zones and keyboards its own way. The answers use IANA zones and X layout
// names (what Linux installers take), so a Windows install translates them through these
// tables (Windows' "Default Time Zones" and "Default Input Profiles" lists). A zone missing
// here is refused with the way out rather than silently turned into UTC.

const ZONES: Record<string, string> = {
  UTC: 'UTC',
  'Etc/UTC': 'UTC',
  'Europe/London': 'GMT Standard Time',
  'Europe/Dublin': 'GMT Standard Time',
  'Europe/Lisbon': 'GMT Standard Time',
  'Europe/Berlin': 'W. Europe Standard Time',
  'Europe/Amsterdam': 'W. Europe Standard Time',
  'Europe/Rome': 'W. Europe Standard Time',
  'Europe/Vienna': 'W. Europe Standard Time',
  'Europe/Zurich': 'W. Europe Standard Time',
  'Europe/Stockholm': 'W. Europe Standard Time',
  'Europe/Oslo': 'W. Europe Standard Time',
  'Europe/Paris': 'Romance Standard Time',
  'Europe/Madrid': 'Romance Standard Time',
  'Europe/Brussels': 'Romance Standard Time',
  'Europe/Copenhagen': 'Romance Standard Time',
  'Europe/Warsaw': 'Central European Standard Time',
  'Europe/Prague': 'Central Europe Standard Time',
  'Europe/Budapest': 'Central Europe Standard Time',
  'Europe/Athens': 'GTB Standard Time',
  'Europe/Bucharest': 'GTB Standard Time',
  'Europe/Helsinki': 'FLE Standard Time',
  'Europe/Kiev': 'FLE Standard Time',
  'Europe/Kyiv': 'FLE Standard Time',
  'Europe/Istanbul': 'Turkey Standard Time',
  'Europe/Moscow': 'Russian Standard Time',
  'America/New_York': 'Eastern Standard Time',
  'America/Toronto': 'Eastern Standard Time',
  'America/Chicago': 'Central Standard Time',
  'America/Denver': 'Mountain Standard Time',
  'America/Phoenix': 'US Mountain Standard Time',
  'America/Los_Angeles': 'Pacific Standard Time',
  'America/Vancouver': 'Pacific Standard Time',
  'America/Anchorage': 'Alaskan Standard Time',
  'Pacific/Honolulu': 'Hawaiian Standard Time',
  'America/Sao_Paulo': 'E. South America Standard Time',
  'America/Mexico_City': 'Central Standard Time (Mexico)',
  'Asia/Tokyo': 'Tokyo Standard Time',
  'Asia/Seoul': 'Korea Standard Time',
  'Asia/Shanghai': 'China Standard Time',
  'Asia/Hong_Kong': 'China Standard Time',
  'Asia/Singapore': 'Singapore Standard Time',
  'Asia/Kolkata': 'India Standard Time',
  'Asia/Dubai': 'Arabian Standard Time',
  'Australia/Sydney': 'AUS Eastern Standard Time',
  'Australia/Melbourne': 'AUS Eastern Standard Time',
  'Australia/Perth': 'W. Australia Standard Time',
  'Pacific/Auckland': 'New Zealand Standard Time',
  'Africa/Johannesburg': 'South Africa Standard Time',
};

/** X layout → Windows input locale (language-region whose default keyboard is that layout). */
const KEYBOARDS: Record<string, string> = {
  us: 'en-US', gb: 'en-GB', de: 'de-DE', fr: 'fr-FR', es: 'es-ES', it: 'it-IT', pt: 'pt-PT', br: 'pt-BR',
  nl: 'nl-NL', be: 'nl-BE', ch: 'de-CH', at: 'de-AT', se: 'sv-SE', no: 'nb-NO', dk: 'da-DK', fi: 'fi-FI',
  pl: 'pl-PL', cz: 'cs-CZ', hu: 'hu-HU', ru: 'ru-RU', ua: 'uk-UA', tr: 'tr-TR', gr: 'el-GR', jp: 'ja-JP',
};

export function windowsTimeZone(iana: string): string {
  const z = ZONES[iana];
  if (!z) {
    throw new VireoError('INVALID_ARGUMENT', `Vireo knows no Windows time zone for "${iana}": choose a nearby zone it knows (${Object.keys(ZONES).slice(0, 6).join(', ')}, …) or UTC, and change it in Windows afterwards`, {
      field: 'unattended.timezone',
      known: Object.keys(ZONES),
    });
  }
  return z;
}

export function windowsInputLocale(keyboard: string, fallback: string): string {
  return KEYBOARDS[keyboard] ?? fallback;
}
