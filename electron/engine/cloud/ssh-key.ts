import { generateKeyPairSync } from 'node:crypto';

// A login key for a cloud VM whose creator gave none, so `vireo ssh` can always get in.
// ECDSA P-256: Node generates it without a process, its private half in the SEC1 PEM form
// OpenSSH reads ("EC PRIVATE KEY"), and its public line is a few bytes built from the JWK
// (RFC 5656: string "ecdsa-sha2-nistp256", string "nistp256", string Q = 04 || x || y).

export interface GeneratedKey {
  privatePem: string;
  publicLine: string;
}

export function generateSshKey(comment: string): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const q = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const str = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const blob = Buffer.concat([str(Buffer.from('ecdsa-sha2-nistp256')), str(Buffer.from('nistp256')), str(q)]);
  const safeComment = comment.replace(/[^A-Za-z0-9@._-]/g, '_');
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'sec1' }) as string,
    publicLine: `ecdsa-sha2-nistp256 ${blob.toString('base64')} ${safeComment}`,
  };
}
