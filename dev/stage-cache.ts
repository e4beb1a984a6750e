import type { ParsedRoute } from '../lib/api/route-table';
import type { EdgeResponse } from './edge-cache';

/**
 * An in-memory stand-in for API Gateway's stage cache, for the dev server: entries per route,
 * keyed on exactly the request parameters the stack declares as the method's cache key
 * parameters (`gatewayCacheKeyParameters`: path parameters, key query strings and headers,
 * and for `perCaller` routes the caller's identity source), kept for the route's
 * `cache.gateway.ttl`. Like API Gateway it ignores the response's `Cache-Control`; unlike it,
 * it keeps only 2xx answers.
 */
export class DevStageCache {
  private readonly entries = new Map<string, { response: EdgeResponse; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  public lookup(key: string): EdgeResponse | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.response;
  }

  public store(key: string, response: EdgeResponse, ttlSeconds: number): void {
    if (ttlSeconds <= 0 || response.statusCode < 200 || response.statusCode >= 300) return;
    this.entries.set(key, { response, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  /** Entries held (expired ones included until looked up). */
  public get size(): number {
    return this.entries.size;
  }

  public clear(): void {
    this.entries.clear();
  }
}

/** What the stage cache can key on from a request. */
export interface StageCacheRequest {
  readonly pathParameters: Record<string, string>;
  /** Query string without `?`, still encoded. */
  readonly query: string | undefined;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/**
 * The stage-cache key of a request: the route and the value of each cache key parameter
 * (`method.request.path.id`, `method.request.querystring.page`, `method.request.header.Authorization`).
 */
export function stageCacheKey(route: ParsedRoute, parameters: readonly string[], request: StageCacheRequest): string {
  const values = parameters.map((parameter) => {
    const [, kind, name] = /^method\.request\.(path|querystring|header)\.(.+)$/.exec(parameter) ?? [];
    let value: string | undefined;
    if (kind === 'path') value = request.pathParameters[name];
    else if (kind === 'querystring') value = queryValue(request.query, name);
    else if (kind === 'header') {
      const found = request.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
      value = found.length ? found.join(',') : undefined;
    }
    // Absent and empty are different keys, as distinct request parameter values are.
    return `${parameter}=${value === undefined ? '\u0001' : value}`;
  });
  return [route.key, ...values].join('\u0000');
}

function queryValue(query: string | undefined, name: string): string | undefined {
  let value: string | undefined;
  for (const part of (query ?? '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    if (key === name) value = eq < 0 ? '' : decode(part.slice(eq + 1));
  }
  return value;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
