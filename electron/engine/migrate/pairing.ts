import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs-atomic.ts';

// Pairing of two Vireo engines (issue 24): the target's `vireo serve` keeps one secret per
// library (<home>/pairing-secret, mode 0600, made by the first serve, replaced only by
// --rotate-pairing), prints it, and the source stores it with the host (`vireo host add NAME
// vireo://addr:port --secret S`, in hosts.json, mode 0600). The secret itself never travels:
// the control channel proves it both ways by HMAC over fresh nonces, seals every message after
// that (AES-256-GCM), and each migration derives its own TLS-PSK key from it and a random salt for QEMU's
// migration stream and NBD disks.

export const pairingFile = (home: string) => join(home, 'pairing-secret');
export const PAIRING_RE = /^[A-Za-z0-9_-]{20,200}$/;
/** the PSK identity both QEMUs use (keys.psk lines are "identity:hexkey") */
export const PSK_IDENTITY = 'vireo';

export async function pairingSecret(home: string, opts: { rotate?: boolean } = {}): Promise<string> {
  const file = pairingFile(home);
  if (!opts.rotate) {
    const text = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (PAIRING_RE.test(text)) {
      if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
      return text;
    }
  }
  const secret = randomBytes(24).toString('base64url');
  await writeFileAtomic(file, `${secret}\n`, 0o600);
  return secret;
}

const hkdf = (secret: string, salt: string, info: string) => Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.from(salt), Buffer.from(info), 32));

/** One migration's TLS-PSK key (hex, as QEMU's keys.psk wants it): the pairing secret and that migration's salt. */
export const migrationPsk = (secret: string, salt: string) => hkdf(secret, salt, 'vireo migration tls-psk').toString('hex');

/** The TLS-PSK key of one screen or console stream to a paired host (peer-screen.ts): the pairing secret and that stream's salt. */
export const screenPsk = (secret: string, salt: string) => hkdf(secret, salt, 'vireo screen tls-psk');

/** A control channel's session key, from both sides' nonces (the salt); `info` tells its uses apart. */
export const sessionKey = (secret: string, serverNonce: string, clientNonce: string, info = 'vireo migration control') => hkdf(secret, `${serverNonce}.${clientNonce}`, info);

/** The AES-256-GCM key that seals a control channel's messages (channel.ts), one per session. */
export const channelKey = (secret: string, serverNonce: string, clientNonce: string) => sessionKey(secret, serverNonce, clientNonce, 'vireo control aes-256-gcm');

/** What a side sends to show it holds the secret: HMAC over its role and the other side's nonce. */
export const proof = (secret: string, role: 'client' | 'server', nonce: string) => createHmac('sha256', secret).update(`vireo-pair:${role}:${nonce}`).digest('hex');

export function sameHex(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export const nonce = () => randomBytes(24).toString('hex');
