import { isWildcardPath } from './paths';

/**
 * CloudFront's quotas on invalidations *in progress* per distribution (Developer Guide, quotas):
 * they are not per-request limits. A request over them fails with TooManyInvalidationsInProgress.
 */
export const CLOUDFRONT_QUOTAS = {
  /** File (non-wildcard) paths in progress per distribution. */
  filePathsInProgress: 3000,
  /** Wildcard paths in progress per distribution. */
  wildcardPathsInProgress: 15,
} as const;

/** Paths a request may still add before a quota is reached. */
export interface Room {
  readonly files: number;
  readonly wildcards: number;
}

/** A path to invalidate and the earliest input (record or message index) that needs it. */
export interface NeededPath {
  readonly path: string;
  readonly firstNeed: number;
}

/** What fits the room now (maybe collapsed to broader wildcards), and what has to wait. */
export interface Fitted {
  readonly now: NeededPath[];
  readonly later: NeededPath[];
}

/** Whether wildcard path `broad` covers `path` (CloudFront: `*` matches any suffix, query string included). */
export function covers(broad: string, path: string): boolean {
  return isWildcardPath(broad) && broad !== path && path.startsWith(broad.slice(0, -1));
}

/**
 * The broader wildcards that cover a path, narrowest first: at each `/` a directory wildcard
 * (`/a/b/c` → `/a/b/*`, `/a/*`), at a `?` the path itself (`/items?x=1` → `/items*`). `/*` last.
 */
export function ancestors(path: string): string[] {
  // A file path's narrowest cover is itself as a prefix: `/items` → `/items*`.
  if (!isWildcardPath(path)) return [path + '*', ...ancestors(path + '*')];
  let base = path.slice(0, -1);
  // `/a/b/*` and `/a?*` stand for their directory or path: their ancestors start one level up.
  if (base.endsWith('/') || base.endsWith('?')) base = base.slice(0, -1);
  const out: string[] = [];
  for (let i = base.length - 1; i >= 0; i--) {
    const c = base[i];
    const candidate = c === '/' ? base.slice(0, i + 1) + '*' : c === '?' ? base.slice(0, i) + '*' : undefined;
    if (candidate !== undefined && candidate !== path && !out.includes(candidate)) out.push(candidate);
  }
  return out;
}

function depth(wildcard: string): number {
  let d = 0;
  for (const c of wildcard) if (c === '/' || c === '?') d++;
  return d;
}

/** Drops paths another wildcard of the set already covers; keeps the earliest need on the cover. */
function withoutCovered(paths: NeededPath[]): NeededPath[] {
  const wildcards = paths.filter((p) => isWildcardPath(p.path)).sort((a, b) => a.path.length - b.path.length);
  if (wildcards.length === 0) return paths;
  const need = new Map<string, number>();
  const kept: NeededPath[] = [];
  for (const p of paths) {
    const cover = wildcards.find((w) => covers(w.path, p.path));
    if (cover) need.set(cover.path, Math.min(need.get(cover.path) ?? cover.firstNeed, p.firstNeed));
    else kept.push(p);
  }
  return kept.map((p) => (need.has(p.path) ? { path: p.path, firstNeed: Math.min(p.firstNeed, need.get(p.path)!) } : p));
}

const count = (paths: readonly NeededPath[]) => {
  let wildcards = 0;
  for (const p of paths) if (isWildcardPath(p.path)) wildcards++;
  return { files: paths.length - wildcards, wildcards };
};

/**
 * Fits the paths into the room: while there are more file or wildcard paths than the room takes,
 * the deepest wildcard that covers at least two of them replaces them (many items → `/items/*`,
 * many wildcards → their common parent, at worst `/*`). Collapsing trades edge hits for not
 * waiting; it never drops a path. With any wildcard room nothing waits (`/*` covers everything);
 * with none at all, what does not fit waits.
 */
export function fitPaths(input: readonly NeededPath[], room: Room): Fitted {
  let paths = withoutCovered([...input]);
  if (room.files <= 0 && room.wildcards <= 0) return { now: [], later: paths };
  for (let guard = 0; guard < 10_000; guard++) {
    const { files, wildcards } = count(paths);
    if (files <= room.files && wildcards <= room.wildcards) return { now: paths, later: [] };
    const filesOver = files > room.files;
    // Without wildcard room no collapse is possible: send what fits and keep the rest.
    if (room.wildcards <= 0) break;
    // Two or more paths under one wildcard first; a lone file path becomes a wildcard only when
    // nothing else reduces the count (a file-path cap of 0, say). A collapse may leave one wildcard
    // too many: the next round merges it with another (`/a/y*` + `/a/x` → `/a/x*` → `/a/*`).
    const pick = bestCollapse(paths, filesOver ? 'file' : 'wildcard', 2) ?? (filesOver ? bestCollapse(paths, 'file', 1) : undefined);
    if (pick === undefined) break;
    const covered = paths.filter((p) => covers(pick, p.path));
    const firstNeed = Math.min(...covered.map((p) => p.firstNeed));
    paths = withoutCovered([...paths.filter((p) => !covers(pick, p.path)), { path: pick, firstNeed }]);
  }
  return splitToRoom(paths, room);
}

/** The deepest candidate wildcard covering at least `least` paths of the kind, the most of them at that depth. */
function bestCollapse(paths: NeededPath[], kind: 'file' | 'wildcard', least: number): string | undefined {
  const coverage = new Map<string, number>();
  for (const p of paths) {
    if (isWildcardPath(p.path) !== (kind === 'wildcard')) continue;
    for (const a of ancestors(p.path)) coverage.set(a, (coverage.get(a) ?? 0) + 1);
  }
  let best: string | undefined;
  let bestDepth = -1;
  let bestCount = 0;
  for (const [candidate, n] of coverage) {
    if (n < least) continue;
    const d = depth(candidate);
    if (d > bestDepth || (d === bestDepth && n > bestCount)) {
      best = candidate;
      bestDepth = d;
      bestCount = n;
    }
  }
  return best;
}

/** Earliest-needed paths first, as many of each kind as the room takes; the rest later. */
function splitToRoom(paths: NeededPath[], room: Room): Fitted {
  const ordered = [...paths].sort((a, b) => a.firstNeed - b.firstNeed);
  const now: NeededPath[] = [];
  const later: NeededPath[] = [];
  let files = 0;
  let wildcards = 0;
  for (const p of ordered) {
    if (isWildcardPath(p.path) ? wildcards < room.wildcards : files < room.files) {
      now.push(p);
      if (isWildcardPath(p.path)) wildcards++;
      else files++;
    } else {
      later.push(p);
    }
  }
  return { now, later };
}
