import * as crypto from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { CacheOutcome } from '../cache/types';
import { RouteSettings, routeSettings } from './route-settings';

/** How the data cache took part in an answer, sent as `X-Data-Cache`. */
export type DataCacheStatus = CacheOutcome;

export const DATA_CACHE_HEADER = 'X-Data-Cache';

const NO_STORE = 'private, no-store';
const NEGATIVE_STATUSES = new Set([404, 410]);

/** Options of `cacheableJson`. */
export interface CacheableJsonOptions {
  /** How the data cache served the body; sent as `X-Data-Cache`. Leave out when the handler has no data cache. */
  readonly dataCache?: DataCacheStatus;
  /**
   * Lets a 404 or 410 be kept this many seconds by shared caches (`s-maxage`), browsers not at
   * all. Applies only on a route the edge already caches (its `Cache-Control` is `public`);
   * anywhere else negative answers stay `private, no-store`.
   * @default - negative answers are never stored
   */
  readonly negativeTtlSeconds?: number;
  /** Further headers; the caching headers above win over them. */
  readonly headers?: Record<string, string>;
  /** The route's settings (tests, hosts serving several routes). @default routeSettings() */
  readonly settings?: Pick<RouteSettings, 'cacheHeaders'>;
}

/**
 * A JSON answer to a read that caches may keep, for the GET handlers' success path:
 *
 * - 2xx to GET/HEAD: the route's `Cache-Control` and `Vary` (routeSettings().cacheHeaders, which
 *   the infrastructure makes `private, no-store` for anything not edge-cached), a strong `ETag`
 *   over the exact body bytes, and `304 Not Modified` without a body when `If-None-Match`
 *   matches (weak comparison, lists and `*`, RFC 9110 §13.1.2 and §13.2.2);
 * - anything else (writes, errors): `private, no-store` and no `ETag`, except a 404/410 the
 *   handler allows to be cached briefly (`negativeTtlSeconds`) on an edge-cached route;
 * - `X-Data-Cache` on every answer when the handler says how its data cache served it.
 */
export function cacheableJson(
  event: APIGatewayProxyEvent,
  statusCode: number,
  body: unknown,
  options: CacheableJsonOptions = {},
): APIGatewayProxyResult {
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers, 'Cache-Control': NO_STORE };
  if (options.dataCache !== undefined) headers[DATA_CACHE_HEADER] = options.dataCache;
  const read = event.httpMethod === 'GET' || event.httpMethod === 'HEAD';
  if (!read) return { statusCode, headers, body: text };

  const route = (options.settings ?? routeSettings()).cacheHeaders;
  if (statusCode >= 200 && statusCode < 300) {
    Object.assign(headers, route);
    const etag = entityTag(text);
    headers.ETag = etag;
    if (ifNoneMatchHits(requestHeader(event, 'if-none-match'), etag)) {
      // RFC 9110 §15.4.5: the validator and caching headers a 200 would carry, no representation metadata.
      delete headers['Content-Type'];
      return { statusCode: 304, headers, body: '' };
    }
  } else if (
    NEGATIVE_STATUSES.has(statusCode) &&
    options.negativeTtlSeconds !== undefined &&
    options.negativeTtlSeconds > 0 &&
    /^\s*public\b/i.test(route['Cache-Control'] ?? '')
  ) {
    Object.assign(headers, route);
    headers['Cache-Control'] = `public, max-age=0, s-maxage=${Math.floor(options.negativeTtlSeconds)}`;
  }
  return { statusCode, headers, body: text };
}

/**
 * A strong entity tag of `body`: SHA-256 of its UTF-8 bytes, base64url, cut to 22 characters
 * (132 bits). SHA-256 runs as fast as SHA-1 or MD5 on CPUs with SHA extensions (Graviton, recent
 * x86) and, unlike them, has no known collisions, so two bodies never share a tag in practice;
 * the one-shot `crypto.hash` is 2-3x faster than `createHash` on API-sized bodies.
 */
export function entityTag(body: string): string {
  return `"${digest(body).slice(0, 22)}"`;
}

const digest: (body: string) => string =
  typeof crypto.hash === 'function'
    ? (body) => crypto.hash('sha256', body, 'base64url')
    : (body) => crypto.createHash('sha256').update(body).digest('base64url');

/**
 * Whether an `If-None-Match` field value matches `etag`: `*`, or any listed entity tag equal by
 * weak comparison (the opaque tags are equal, `W/` ignored on both sides).
 */
export function ifNoneMatchHits(field: string | undefined, etag: string): boolean {
  if (field === undefined) return false;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  ENTITY_TAG.lastIndex = 0;
  for (let match = ENTITY_TAG.exec(field); match !== null; match = ENTITY_TAG.exec(field)) {
    if (match[1] === '*' || match[1] === opaque) return true;
  }
  return false;
}

/** One list member: `*`, or an entity tag (`W/` optional) whose opaque tag is captured with its quotes. */
const ENTITY_TAG = /(?:^|,)\s*(?:W\/)?("[^"]*"|\*)\s*(?=,|$)/g;

/** Every value of a request header, repeated fields joined by commas as RFC 9110 §5.3 allows. */
function requestHeader(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values && values.length > 0 && key.toLowerCase() === name) return values.join(', ');
  }
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && key.toLowerCase() === name) return value;
  }
  return undefined;
}
