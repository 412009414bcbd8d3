import { z } from 'zod';
import {
  UNATTENDED_HOSTNAME_RE, UNATTENDED_KEYBOARD_RE, UNATTENDED_LOCALE_RE, UNATTENDED_PRODUCT_KEY_RE, UNATTENDED_TIMEZONE_RE, UNATTENDED_USER_RE,
} from '../../shared/unattended-rules.ts';

// The answers of an unattended ("express") install (engine/unattended/). Every value lands in an
// installer's answer file (preseed, kickstart, autoinstall YAML, autounattend.xml) or on a kernel
// command line, so each is held to the characters those formats take without quoting tricks: a
// value that could break out of its line or attribute is refused here, at the boundary.

export const UnattendedAnswers = z
  .object({
    user: z.string().regex(UNATTENDED_USER_RE, 'user name: 1-32 lower-case letters, digits, "_" or "-", starting with a letter or "_" (e.g. "tester")'),
    password: z
      .string()
      .min(1, 'password is empty: give the password for the new user')
      .max(128, 'password is longer than 128 characters: shorten it')
      .refine((p) => ![...p].some((c) => c < ' ' || c === '\x7f'), 'password contains control characters (a newline?): remove them'),
    hostname: z.string().regex(UNATTENDED_HOSTNAME_RE, 'hostname: letters, digits and "-" (dots between labels), at most 63 characters, e.g. "testbox"'),
    locale: z.string().regex(UNATTENDED_LOCALE_RE, 'locale: language_COUNTRY like "en_US" or "de_DE.UTF-8"').default('en_US.UTF-8'),
    timezone: z.string().regex(UNATTENDED_TIMEZONE_RE, 'timezone: an IANA zone like "Europe/Berlin" or "UTC"').default('UTC'),
    keyboard: z.string().regex(UNATTENDED_KEYBOARD_RE, 'keyboard: an X layout name like "us" or "de"').default('us'),
    productKey: z
      .string()
      .transform((k) => k.trim().toUpperCase())
      .pipe(z.string().regex(UNATTENDED_PRODUCT_KEY_RE, 'product key: five groups of five letters or digits, XXXXX-XXXXX-XXXXX-XXXXX-XXXXX'))
      .optional(),
  })
  .strict();
export type UnattendedAnswers = z.output<typeof UnattendedAnswers>;
