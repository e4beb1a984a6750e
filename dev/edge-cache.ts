import { randomBytes } from 'node:crypto';
import type { ParsedRoute } from '../lib/api/route-table';
import { invalidationPathsForWrite, normaliseInvalidationPath } from '../lib/edge/invalidation-paths';

/**
 * An in-memory stand-in for the CloudFront distribution in front of the API, for the dev server:
 * what a route's cache policy keys on, what reaches the origin, how long a response is kept, and
 * which entries a write purges. It follows CloudFront's rules as the stack configures them
 * (lib/edge/edge-cache.ts), not HTTP caching in general.
 */

/** The `X-Cache` values, in CloudFront's style (`Hit from cloudfront`). */
export const EDGE_NAME = 'dev-edge';
export const X_CACHE = {
  hit: `Hit from ${EDGE_NAME}`,
  miss: `Miss from ${EDGE_NAME}`,
  error: `Error from ${EDGE_NAME}`,
} as const;

/** Statuses kept by the dev edge when the response's Cache-Control allows it. */
const CACHEABLE_STATUSES = new Set([200, 203, 204, 300, 301, 404, 410]);
/** Request headers CloudFront answers itself on a cached behavior instead of forwarding them. */
const CONDITIONAL_HEADERS = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range']);

/** A response as the dev edge stores and serves it. */
export interface EdgeResponse {
  readonly statusCode: number;
  /** Header lines in order; a name may repeat. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

/** What a viewer request becomes at the edge: its cache key and the origin request. */
export interface EdgeRequestPlan {
  /** Cache key (method, normalised path, keyed query strings, headers and cookies). */
  readonly cacheKey: string;
  /** Path and forwarded query string, normalised as an invalidation path is matched. */
  readonly viewerPath: string;
  /** Query string sent to the origin, without `?` (undefined when empty). */
  readonly query: string | undefined;
  /** Headers sent to the origin. */
  readonly headers: Array<[string, string]>;
  /** Query-string names dropped because the cache policy does not key on them. */
  readonly droppedQuery: string[];
}

export interface ViewerRequest {
  readonly method: string;
  /** Path as received, percent-encoded, without the query string. */
  readonly path: string;
  /** Query string as received, without `?`. */
  readonly query?: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly sourceIp: string;
}

/**
 * How a request to `route` reaches the origin. On an edge-cached route only what the cache policy
 * keys on is forwarded (CloudFront's cache policy doubles as the origin request policy when the
 * behavior has none): the keyed query strings, headers and cookies, plus `Host`; conditional
 * headers stay at the edge. Other routes (the CachingDisabled default behavior with
 * AllViewerExceptHostHeader) get every viewer header and the whole query string. Both get the
 * headers CloudFront adds.
 */
export function planEdgeRequest(route: ParsedRoute, request: ViewerRequest): EdgeRequestPlan {
  const cached = isEdgeCached(route);
  const pairs = splitQuery(request.query);
  const keyedQuery = new Set(route.cache.key.queryStrings);
  const forwarded = cached ? pairs.filter(([name]) => keyedQuery.has(name)) : pairs;
  const droppedQuery = cached ? [...new Set(pairs.filter(([name]) => !keyedQuery.has(name)).map(([name]) => name))] : [];
  const query = forwarded.length > 0 ? forwarded.map(([n, v]) => (v === undefined ? n : `${n}=${v}`)).join('&') : undefined;

  const keyedHeaders = new Set(route.cache.key.headers.map((h) => h.toLowerCase()));
  const keyedCookies = new Set(route.cache.key.cookies);
  const headers: Array<[string, string]> = [];
  const keyHeaderValues: string[] = [];
  const cookies: Array<[string, string]> = [];
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      for (const part of value.split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0) cookies.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
      }
    }
    if (!cached) {
      headers.push([name, value]);
      continue;
    }
    // Conditional headers stay at the edge, which answers 304 itself from what it stored.
    if (lower === 'host' || (keyedHeaders.has(lower) && !CONDITIONAL_HEADERS.has(lower))) headers.push([name, value]);
    if (keyedHeaders.has(lower) && !CONDITIONAL_HEADERS.has(lower)) keyHeaderValues.push(`${lower}:${value}`);
  }
  if (cached) {
    const kept = cookies.filter(([name]) => keyedCookies.has(name));
    if (kept.length > 0) headers.push(['Cookie', kept.map(([n, v]) => `${n}=${v}`).join('; ')]);
    headers.push(['User-Agent', 'Amazon CloudFront']);
  }
  headers.push(['Via', `1.1 ${EDGE_NAME} (CloudFront)`]);
  headers.push(['X-Forwarded-For', request.sourceIp]);
  headers.push(['X-Amz-Cf-Id', randomBytes(42).toString('base64url').slice(0, 56)]);
  headers.push(['CloudFront-Forwarded-Proto', 'https']);

  const path = normalisePath(request.path);
  const keyQuery = [...forwarded].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const keyCookies = cookies.filter(([name]) => keyedCookies.has(name)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const cacheKey = [
    request.method.toUpperCase(),
    path,
    keyQuery.map(([n, v]) => `${n}=${v ?? ''}`).join('&'),
    keyHeaderValues.sort().join('\n'),
    keyCookies.map(([n, v]) => `${n}=${v}`).join(';'),
  ].join('\u0000');
  return { cacheKey, viewerPath: query === undefined ? path : `${path}?${query}`, query, headers, droppedQuery };
}

export function isEdgeCached(route: ParsedRoute): boolean {
  return route.method === 'GET' && route.cache.edge !== undefined;
}

/**
 * Seconds CloudFront keeps a response of `route`, or 0 when it does not keep it: `no-store`,
 * `no-cache` and `private` are never stored; otherwise `s-maxage`, else `max-age`, else the
 * route's default TTL, clamped to the route's minimum and maximum TTL.
 */
export function edgeTtlSeconds(route: ParsedRoute, statusCode: number, cacheControl: string | undefined): number {
  const edge = route.cache.edge;
  if (!edge || !CACHEABLE_STATUSES.has(statusCode)) return 0;
  const directives = parseCacheControl(cacheControl ?? '');
  if (directives.has('no-store') || directives.has('no-cache') || directives.has('private')) return 0;
  const origin = directives.get('s-maxage') ?? directives.get('max-age');
  const seconds = origin === undefined || !/^\d+$/.test(origin) ? edge.ttl : Number(origin);
  return Math.min(Math.max(seconds, edge.minTtl), edge.maxTtl);
}

function parseCacheControl(value: string): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  for (const part of value.split(',')) {
    const [name, arg] = part.split('=', 2).map((s) => s.trim());
    if (name) directives.set(name.toLowerCase(), arg?.replace(/^"|"$/g, ''));
  }
  return directives;
}

interface Entry {
  readonly routeKey: string;
  readonly viewerPath: string;
  readonly response: EdgeResponse;
  readonly storedAt: number;
  readonly expiresAt: number;
}

/** A served entry and its age in whole seconds. */
export interface EdgeHit {
  readonly response: EdgeResponse;
  readonly ageSeconds: number;
}

/** A purge the dev edge has seen, kept while a fill that started before it may still arrive. */
interface Purge {
  readonly sequence: number;
  /** Invalidation paths, or undefined for "every entry" (a reload, a clear). */
  readonly paths: readonly string[] | undefined;
}

/** Purges remembered for fills still in flight; a fill older than all of them is refused. */
const MAX_REMEMBERED_PURGES = 1000;

/**
 * The cached objects of the dev edge, with CloudFront's invalidation-path semantics. A response
 * is stored only if no purge matching its path happened since its origin request started
 * (`beginFill`): a response computed before a write must not outlive that write's purge.
 */
export class DevEdgeCache {
  private readonly entries = new Map<string, Entry>();
  private purgeSequence = 0;
  private readonly purges: Purge[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  lookup(cacheKey: string): EdgeHit | undefined {
    const entry = this.entries.get(cacheKey);
    if (!entry) return undefined;
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.entries.delete(cacheKey);
      return undefined;
    }
    return { response: entry.response, ageSeconds: Math.floor((now - entry.storedAt) / 1000) };
  }

  /** Call before the origin request of a fill; pass the result to `store`. */
  beginFill(): number {
    return this.purgeSequence;
  }

  /**
   * Keeps `response` for `ttlSeconds` (nothing when 0), unless a purge matching `viewerPath` ran
   * since `fillStartedAt` (from `beginFill`; omitted: no check). True when stored.
   */
  store(cacheKey: string, routeKey: string, viewerPath: string, response: EdgeResponse, ttlSeconds: number, fillStartedAt?: number): boolean {
    if (ttlSeconds <= 0) return false;
    if (fillStartedAt !== undefined && this.purgedSince(fillStartedAt, viewerPath, routeKey)) return false;
    if (this.entries.size >= this.maxEntries && !this.entries.has(cacheKey)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const now = this.now();
    this.entries.delete(cacheKey);
    this.entries.set(cacheKey, { routeKey, viewerPath, response, storedAt: now, expiresAt: now + ttlSeconds * 1000 });
    return true;
  }

  private purgedSince(fillStartedAt: number, viewerPath: string, routeKey: string): boolean {
    if (fillStartedAt === this.purgeSequence) return false;
    const oldest = this.purges[0];
    // Older than every purge remembered: one that was forgotten may have matched.
    if (oldest === undefined || oldest.sequence > fillStartedAt + 1) return true;
    return this.purges.some(
      (p) => p.sequence > fillStartedAt && (p.paths === undefined || p.paths.includes(`route:${routeKey}`) || p.paths.some((path) => pathMatches(path, viewerPath))),
    );
  }

  private remember(paths: readonly string[] | undefined): void {
    this.purgeSequence++;
    this.purges.push({ sequence: this.purgeSequence, paths });
    if (this.purges.length > MAX_REMEMBERED_PURGES) this.purges.shift();
  }

  /**
   * Removes the entries matching CloudFront invalidation paths: `/a/b` is that path (no query
   * string), a trailing `*` matches every path and query string starting with what precedes it.
   * Returns the number of entries removed.
   */
  invalidate(paths: readonly string[]): number {
    this.remember(paths);
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (paths.some((p) => pathMatches(p, entry.viewerPath))) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Removes every entry of the given routes (e.g. after their handler was reloaded). */
  invalidateRoutes(routeKeys: ReadonlySet<string>): number {
    this.remember([...routeKeys].map((k) => `route:${k}`));
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (routeKeys.has(entry.routeKey)) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.remember(undefined);
    this.entries.clear();
  }
}

/** CloudFront matching: `/a/b` is that path (no query string); a trailing `*` matches every path and query starting with what precedes it. */
function pathMatches(invalidationPath: string, viewerPath: string): boolean {
  return invalidationPath.endsWith('*') ? viewerPath.startsWith(invalidationPath.slice(0, -1)) : viewerPath === invalidationPath;
}

/**
 * The viewer paths the stream-driven edge purge (lambda/purge/edge-purge.ts, templates from
 * lib/sync/cache-sync.ts `edgePurgePaths`) invalidates after a write, with the write's path
 * parameters standing in for the changed item's attributes: each edge-cached GET route's path,
 * `*`-suffixed when its cache key has query strings; `{param}`s filled and URL-encoded, and a
 * template whose parameter the write's path lacks purged from its literal prefix (`/items/*`).
 */
export function purgePathsForWrite(routes: readonly ParsedRoute[], pathParameters: Readonly<Record<string, string>>): string[] {
  return invalidationPathsForWrite(routes, pathParameters);
}

/** Each segment decoded and re-encoded as the purge encodes values, so both spellings compare equal. */
export function normalisePath(path: string): string {
  return normaliseInvalidationPath(path);
}

/** `a=1&b&c=` as [name, value] pairs, names decoded, values kept as sent (undefined for `b`). */
function splitQuery(query: string | undefined): Array<[string, string | undefined]> {
  const pairs: Array<[string, string | undefined]> = [];
  for (const part of (query ?? '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const raw = eq < 0 ? part : part.slice(0, eq);
    let name = raw;
    try {
      name = decodeURIComponent(raw.replace(/\+/g, ' '));
    } catch {
      // keep as sent
    }
    pairs.push([name, eq < 0 ? undefined : part.slice(eq + 1)]);
  }
  return pairs;
}

/**
 * Whether an `If-None-Match` field matches `etag` by weak comparison (RFC 9110 §13.1.2): `*`, or
 * any listed tag whose opaque part equals the entity tag's.
 */
export function ifNoneMatchHits(field: string | undefined, etag: string | undefined): boolean {
  if (field === undefined || etag === undefined) return false;
  const opaque = etag.replace(/^W\//, '');
  return field.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === opaque;
  });
}
