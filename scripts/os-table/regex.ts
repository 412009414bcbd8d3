// osinfo's GLib PCRE patterns → JavaScript regular expressions.

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z',
  space: ' \\t\\r\\n\\v\\f', blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f',
  word: 'A-Za-z0-9_', cntrl: '\\x00-\\x1f\\x7f', print: '\\x20-\\x7e', graph: '\\x21-\\x7e',
};

/**
 * osinfo matches with GLib's PCRE; JavaScript lacks POSIX classes (`[[:digit:]]`), `\A`, `\Z`
 * and inline flags. Converts what has a direct equivalent; returns undefined when the result
 * still does not compile, so that media entry is dropped rather than matching wrongly.
 */
export function convertRegex(pcre: string): string | undefined {
  let re = pcre.replace(/\[:(\w+):\]/g, (whole, cls: string) => POSIX_CLASSES[cls] ?? whole);
  re = re.replace(/\\A/g, '^').replace(/\\[Zz]/g, '$');
  if (/\(\?[a-zA-Z]/.test(re) || /\[:\w+:\]/.test(re)) return undefined;
  try {
    new RegExp(re);
    return re;
  } catch {
    return undefined;
  }
}
