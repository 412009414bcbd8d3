import type { MediaArch, OsTable, TableMedia, TableOs } from './os-table.ts';

// osinfo's media matching: every matcher an entry states must match the image (regex search,
// not anchored, as GLib's g_regex_match_simple does); an entry stating nothing matches nothing;
// volume-size is an exact byte count. Rolling releases are only considered when no versioned
// OS matches. Among the rest, the entry with the most matchers is the most specific, then the
// newest release wins.

export interface IsoIds {
  volumeId: string;
  systemId: string;
  publisherId: string;
  applicationId: string;
  volumeBytes: number;
}

export interface MediaMatch {
  os: TableOs;
  media: TableMedia;
  arch: MediaArch;
  score: number;
  /** matched only when letter case is ignored (remastered media often upper-case labels) */
  caseFolded: boolean;
}

const regexCache = new Map<string, RegExp | null>();

function compile(pattern: string, fold: boolean): RegExp | null {
  const key = `${fold ? 'i' : '-'}${pattern}`;
  let re = regexCache.get(key);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, fold ? 'i' : '');
    } catch {
      // the generator drops patterns JavaScript cannot compile; a hand-edited table may not
      re = null;
    }
    regexCache.set(key, re);
  }
  return re;
}

function test(pattern: string | undefined, value: string, fold: boolean): boolean {
  if (pattern === undefined) return true;
  const re = compile(pattern, fold);
  return re !== null && re.test(value);
}

export function mediaScore(m: TableMedia): number {
  return [m.volumeId, m.systemId, m.publisherId, m.applicationId, m.volumeSize].filter((x) => x !== undefined).length;
}

export function mediaMatches(m: TableMedia, iso: IsoIds, fold = false): boolean {
  if (mediaScore(m) === 0) return false;
  return (
    test(m.volumeId, iso.volumeId, fold) &&
    test(m.systemId, iso.systemId, fold) &&
    test(m.publisherId, iso.publisherId, fold) &&
    test(m.applicationId, iso.applicationId, fold) &&
    (m.volumeSize === undefined || m.volumeSize === iso.volumeBytes)
  );
}

function compareMatches(a: MediaMatch, b: MediaMatch): number {
  if (a.score !== b.score) return b.score - a.score;
  const ra = a.os.released ?? '';
  const rb = b.os.released ?? '';
  if (ra !== rb) return ra < rb ? 1 : -1;
  if (a.arch !== b.arch) return a.arch === 'x86_64' ? -1 : 1;
  return a.os.id < b.os.id ? -1 : a.os.id > b.os.id ? 1 : 0;
}

/** All matching (OS, media) pairs of the first pass that finds any, best first; one per OS. */
export function matchIso(table: OsTable, iso: IsoIds): MediaMatch[] {
  const passes: Array<{ fold: boolean; rolling: boolean }> = [
    { fold: false, rolling: false },
    { fold: false, rolling: true },
    { fold: true, rolling: false },
    { fold: true, rolling: true },
  ];
  for (const pass of passes) {
    const found: MediaMatch[] = [];
    for (const os of table.oses) {
      if (Boolean(os.rolling) !== pass.rolling) continue;
      let best: MediaMatch | undefined;
      for (const m of os.media) {
        if (!mediaMatches(m, iso, pass.fold)) continue;
        const cand: MediaMatch = { os, media: m, arch: m.arch, score: mediaScore(m), caseFolded: pass.fold };
        if (!best || compareMatches(cand, best) < 0) best = cand;
      }
      if (best) found.push(best);
    }
    if (found.length) return found.sort(compareMatches);
  }
  return [];
}
