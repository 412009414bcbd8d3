// What an express install's answers may hold (electron/api/schemas/unattended.ts parses them;
// the wizard checks the same rules as the person types). Every value lands in an installer's
// answer file or on a kernel command line, so each is held to characters those formats take
// without quoting tricks.

/** POSIX-ish login name as Debian's adduser, anaconda and subiquity all accept it. */
export const UNATTENDED_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
/** One DNS label or a dotted name; the first label is the host name. */
export const UNATTENDED_HOSTNAME_RE = /^(?=.{1,63}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** glibc locale name: language_COUNTRY, optionally .UTF-8 */
export const UNATTENDED_LOCALE_RE = /^[a-z]{2,3}_[A-Z]{2}(\.UTF-8)?$/;
/** IANA zone ("Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires") */
export const UNATTENDED_TIMEZONE_RE = /^(UTC|[A-Z][A-Za-z_-]+(\/[A-Z][A-Za-z0-9_+-]+){1,2})$/;
/** X keyboard layout name (us, de, fr, gb, ...) */
export const UNATTENDED_KEYBOARD_RE = /^[a-z]{2,8}$/;
/** Windows product key: five groups of five */
export const UNATTENDED_PRODUCT_KEY_RE = /^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/;
