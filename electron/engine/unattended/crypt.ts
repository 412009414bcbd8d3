import { createHash, randomBytes } from 'node:crypto';

// SHA-512 crypt ("$6$", Ulrich Drepper's SHA-crypt specification, the default of glibc's
// crypt(3)), written here from the specification. The Linux answer files carry only this hash
// of the user's password: d-i's passwd/user-password-crypted, kickstart's --iscrypted and
// subiquity's identity.password all take it, and subiquity takes nothing else.

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DEFAULT_ROUNDS = 5000;

/** The byte triples of the final digest in the order the specification encodes them. */
const ORDER: readonly [number, number, number][] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

const sha512 = (...parts: Buffer[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `len` bytes of `block` repeated. */
function repeatTo(block: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += block.length) block.copy(out, i, 0, Math.min(block.length, len - i));
  return out;
}

function b64(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = '';
  for (let i = 0; i < n; i++) {
    s += ITOA64[w & 0x3f];
    w >>= 6;
  }
  return s;
}

/** A random 16-character salt from crypt's alphabet. */
export function newSalt(): string {
  return [...randomBytes(16)].map((b) => ITOA64[b & 0x3f]).join('');
}

export function sha512Crypt(password: string, salt: string = newSalt(), rounds = DEFAULT_ROUNDS): string {
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt.slice(0, 16), 'utf8');
  const B = sha512(P, S, P);
  const a = createHash('sha512').update(P).update(S).update(repeatTo(B, P.length));
  for (let n = P.length; n > 0; n >>= 1) a.update(n & 1 ? B : P);
  const A = a.digest();
  const DP = sha512(...Array.from({ length: P.length }, () => P));
  const Pp = repeatTo(DP, P.length);
  const DS = sha512(...Array.from({ length: 16 + A[0]! }, () => S));
  const Sp = repeatTo(DS, S.length);
  let C = A;
  for (let i = 0; i < rounds; i++) {
    const h = createHash('sha512');
    h.update(i & 1 ? Pp : C);
    if (i % 3) h.update(Sp);
    if (i % 7) h.update(Pp);
    h.update(i & 1 ? C : Pp);
    C = h.digest();
  }
  const body = ORDER.map(([x, y, z]) => b64(C[x]!, C[y]!, C[z]!, 4)).join('') + b64(0, 0, C[63]!, 2);
  const roundsPart = rounds === DEFAULT_ROUNDS ? '' : `rounds=${rounds}$`;
  return `$6$${roundsPart}${S.toString('utf8')}$${body}`;
}
