import { run } from '../util/proc.ts';

// What a host's swtpm says of itself before a TPM's state moves live (compat.ts compares the
// two sides): its release, and the TPM 2.0 features of the libtpms it runs on (RSA key sizes
// among them), which decide what state it can take in. `swtpm socket --print-capabilities`.

export interface SwtpmFacts {
  release: string;
  features: string[];
}

/** The capabilities JSON swtpm prints; null when it is not that. */
export function parseSwtpmCapabilities(text: string): SwtpmFacts | null {
  try {
    const j = JSON.parse(text) as { type?: unknown; version?: unknown; features?: unknown };
    if (j.type !== 'swtpm' || typeof j.version !== 'string' || !/^\d[\w.-]{0,30}$/.test(j.version)) return null;
    const features = Array.isArray(j.features) ? j.features.filter((f): f is string => typeof f === 'string' && f.length <= 60) : [];
    return { release: j.version, features };
  } catch {
    return null;
  }
}

/** This host's swtpm, or null when it does not run here. */
export async function swtpmFacts(binary = 'swtpm'): Promise<SwtpmFacts | null> {
  const r = await run(binary, ['socket', '--print-capabilities', '--tpm2'], { timeoutMs: 10_000 }).catch(() => null);
  return r ? parseSwtpmCapabilities(r.stdout) : null;
}

/** The features that name what a TPM's state may hold: a target without one of the source's cannot take it. */
export const stateFeatures = (features: readonly string[]) => features.filter((f) => f === 'tpm-2.0' || f.startsWith('rsa-keysize-'));
