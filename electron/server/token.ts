import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../engine/util/fs-atomic.ts';

// `vireo serve`'s access token, kept per library: a restarted server keeps the link that open
// tabs and bookmarks carry. It lives in the library folder with mode 0600 (it is a password
// to every VM there), is created by the first serve and replaced only on request
// (`--rotate-token`); `--token` overrides it for one run without touching it.

export const serveTokenFile = (home: string) => join(home, 'serve-token');

/** A stored token we accept back: what newToken() makes, or a --token-sized one someone wrote. */
const TOKEN_RE = /^[A-Za-z0-9_-]{20,200}$/;

const newToken = () => randomBytes(24).toString('base64url');

export async function libraryServeToken(home: string, opts: { rotate?: boolean } = {}): Promise<{ token: string; created: boolean }> {
  const file = serveTokenFile(home);
  if (!opts.rotate) {
    const text = await readFile(file, 'utf8').catch(() => null);
    const token = text?.trim() ?? '';
    if (TOKEN_RE.test(token)) {
      // Loosened by hand (or a copy): a token others can read is not a secret; make it ours again.
      const st = await stat(file);
      if ((st.mode & 0o077) !== 0) await chmod(file, 0o600);
      return { token, created: false };
    }
  }
  const token = newToken();
  await writeFileAtomic(file, `${token}\n`, 0o600);
  return { token, created: true };
}
