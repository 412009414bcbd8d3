import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { sha256Hex } from '../../../electron/shared/sha256.ts';

// The runtime folder's and the library lock's names are tags of this hash: it must be
// SHA-256 exactly (node:crypto's), or a new CLI would not find an older engine's socket.
describe('sha256Hex', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('equals node:crypto on UTF-8 paths of every padding length', () => {
    const samples = ['/home/ana/.local/share/vireo', 'C:\\Users\\José\\AppData\\Roaming\\Vireo', '/tmp/日本語/ライブラリ', '/x/😀'];
    for (let n = 0; n < 200; n++) samples.push('/v'.repeat(n));
    for (const s of samples) expect(sha256Hex(s), s).toBe(createHash('sha256').update(s).digest('hex'));
  });
});
