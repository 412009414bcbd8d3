import { createHash, randomBytes } from 'node:crypto';

// SHA-512 crypt ("$6$", the glibc crypt(3) scheme cloud-init's `passwd:` and /etc/shadow
// take), written from Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" specification.
// Node has no crypt(3), and `openssl passwd -6` is a process that hosts without OpenSSL lack;
// this keeps the clear-text password out of vm.json on every host. The express install's preseed and
// kickstart (engine/unattended/render.ts) hash with it too: one implementation, both vector-tested.

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ROUNDS_DEFAULT = 5000;

const sha512 = (...parts: Buffer[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `len` bytes of `digest` repeated (the spec's P and S sequences). */
function repeatTo(digest: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, len - i));
  return out;
}

/** A random 16-character salt from crypt's alphabet. */
export function randomSalt(): string {
  return [...randomBytes(16)].map((b) => ALPHABET[b & 63]).join('');
}

/**
 * crypt(password, "$6$[rounds=N$]salt"). `rounds` undefined means the default 5000, written
 * without a rounds= field, as glibc does.
 */
export function sha512Crypt(password: string, salt: string = randomSalt(), rounds?: number): string {
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt.slice(0, 16), 'utf8');
  const R = rounds === undefined ? ROUNDS_DEFAULT : Math.min(999_999_999, Math.max(1000, Math.floor(rounds)));

  const B = sha512(P, S, P);
  const a = createHash('sha512').update(P).update(S);
  a.update(repeatTo(B, P.length));
  for (let n = P.length; n > 0; n >>= 1) a.update(n & 1 ? B : P);
  const A = a.digest();

  const dpParts: Buffer[] = [];
  for (let i = 0; i < P.length; i++) dpParts.push(P);
  const Pseq = repeatTo(sha512(...dpParts), P.length);
  const dsParts: Buffer[] = [];
  for (let i = 0; i < 16 + A[0]!; i++) dsParts.push(S);
  const Sseq = repeatTo(sha512(...dsParts), S.length);

  let C = A;
  for (let i = 0; i < R; i++) {
    const h = createHash('sha512');
    h.update(i & 1 ? Pseq : C);
    if (i % 3) h.update(Sseq);
    if (i % 7) h.update(Pseq);
    h.update(i & 1 ? C : Pseq);
    C = h.digest();
  }

  // The spec's byte permutation, three bytes to four characters, least significant first.
  const order = [
    [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
    [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
    [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
  ] as const;
  let out = '';
  const b64 = (w: number, n: number) => {
    for (let i = 0; i < n; i++, w >>= 6) out += ALPHABET[w & 63];
  };
  for (const [x, y, z] of order) b64((C[x]! << 16) | (C[y]! << 8) | C[z]!, 4);
  b64(C[63]!, 2);
  const prefix = rounds === undefined ? '$6$' : `$6$rounds=${R}$`;
  return `${prefix}${S.toString('utf8')}$${out}`;
}
