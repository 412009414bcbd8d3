import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { VireoError } from '../../api/errors.ts';

// The OVF manifest (.mf, DSP0243 §5.1): one line per file, "SHA256(name)= hex" (VMware,
// VirtualBox 7) or "SHA1 (name) = hex" (older VirtualBox), SHA1 or SHA256 (OVF 2 allows
// SHA256/SHA512). Every file it names must be in the package with that digest; a damaged
// or tampered file is refused by name before anything is imported from it.

export type DigestAlgo = 'sha1' | 'sha256' | 'sha512';
export interface ManifestEntry {
  algo: DigestAlgo;
  file: string;
  digest: string;
}

const LINE = /^(SHA1|SHA256|SHA512)\s*\(([^)]+)\)\s*=\s*([0-9a-fA-F]+)\s*$/;
const LEN: Record<DigestAlgo, number> = { sha1: 40, sha256: 64, sha512: 128 };

export function parseManifest(textIn: string, mfName: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  textIn.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const m = LINE.exec(line.trim());
    const algo = m?.[1]?.toLowerCase() as DigestAlgo | undefined;
    if (!m || !algo || m[3]!.length !== LEN[algo]) {
      throw new VireoError('INVALID_ARGUMENT', `manifest ${mfName} is damaged at line ${i + 1} ("${line.slice(0, 80)}"): expected "SHA256(file)= digest"; the package cannot be verified, get it again`, { file: mfName, line: i + 1 });
    }
    out.push({ algo, file: m[2]!.trim(), digest: m[3]!.toLowerCase() });
  });
  if (!out.length) throw new VireoError('INVALID_ARGUMENT', `manifest ${mfName} lists no files: the package cannot be verified, get it again`, { file: mfName });
  return out;
}

export function formatManifest(entries: Array<{ file: string; sha256: string }>): string {
  return entries.map((e) => `SHA256(${e.file})= ${e.sha256}\n`).join('');
}

/** Hashes fed as bytes stream by (a tar entry, a file), all algorithms at once. */
export class Digests {
  private readonly h: Record<DigestAlgo, Hash> = { sha1: createHash('sha1'), sha256: createHash('sha256'), sha512: createHash('sha512') };
  private done: Record<DigestAlgo, string> | null = null;
  update(b: Buffer) {
    for (const h of Object.values(this.h)) h.update(b);
  }
  result(): Record<DigestAlgo, string> {
    this.done ??= { sha1: this.h.sha1.digest('hex'), sha256: this.h.sha256.digest('hex'), sha512: this.h.sha512.digest('hex') };
    return this.done;
  }
}

export async function digestFile(path: string, signal?: AbortSignal): Promise<Record<DigestAlgo, string>> {
  const d = new Digests();
  for await (const chunk of createReadStream(path, { signal })) d.update(chunk as Buffer);
  return d.result();
}

/**
 * Check every manifest entry against the digests of the package's files. `required` are the
 * files the descriptor references: each must be listed too (a file added to the package
 * after signing would otherwise slip through).
 */
export function verifyManifest(entries: ManifestEntry[], digests: Map<string, Record<DigestAlgo, string>>, mfName: string, required: string[]): void {
  for (const e of entries) {
    const got = digests.get(e.file);
    if (!got) throw new VireoError('INVALID_ARGUMENT', `manifest ${mfName} lists ${e.file}, which is not in the package: the package is incomplete, get it again`, { file: e.file, manifest: mfName });
    if (got[e.algo] !== e.digest) {
      throw new VireoError('INVALID_ARGUMENT', `${e.file} does not match its ${e.algo.toUpperCase()} digest in ${mfName} (expected ${e.digest}, got ${got[e.algo]}): the file is damaged or was changed; nothing was imported, get the package again`, { file: e.file, manifest: mfName, reason: 'digest-mismatch', expected: e.digest, actual: got[e.algo] });
    }
  }
  for (const r of required) {
    if (!entries.some((e) => e.file === r)) throw new VireoError('INVALID_ARGUMENT', `${r} is not listed in manifest ${mfName}, so it cannot be verified: nothing was imported, get the package again`, { file: r, manifest: mfName, reason: 'not-in-manifest' });
  }
}
