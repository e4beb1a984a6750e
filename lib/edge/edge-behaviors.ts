import type { ParsedRoute } from '../api/route-table';
import { edgePathPattern } from './invalidation-paths';
import { EDGE_LIMITS } from './edge-cache-defaults';

/** One cache behavior EdgeCache derives from the route table. */
export interface EdgeBehaviorPlan {
  /** CloudFront path pattern, e.g. `/items/*`. */
  readonly pathPattern: string;
  /** The edge-cached GET route served by this behavior, if any (the first, when several share it). */
  readonly cachedRoute?: ParsedRoute;
  /**
   * Every edge-cached GET route this behavior serves: several when routes with the same cache
   * settings share one behavior (`mergeCachedBehaviors`).
   * @default - `cachedRoute` alone
   */
  readonly cachedRoutes?: ParsedRoute[];
  /** Every route whose path maps to this pattern. */
  readonly routes: ParsedRoute[];
}

/**
 * The cache behaviors of a route table, in CloudFront precedence order (most specific
 * first): one per path pattern of an edge-cached route, plus one (caching disabled) per
 * pattern of other routes that an edge-cached pattern would otherwise capture. Everything
 * else falls to the default behavior. Throws, naming the routes, on combinations CloudFront
 * cannot express.
 */
export function planEdgeBehaviors(routes: ParsedRoute[]): EdgeBehaviorPlan[] {
  const groups = new Map<string, ParsedRoute[]>();
  for (const route of routes) {
    const pattern = edgePathPattern(route.path);
    if (pattern === '/') {
      if (route.cache.edge) {
        throw new Error(
          `routes['${route.key}'].cache.edge: the root path cannot be edge-cached; CloudFront serves it from the default behavior, which also carries the writes`,
        );
      }
      continue;
    }
    groups.set(pattern, [...(groups.get(pattern) ?? []), route]);
  }
  const cachedPatterns = [...groups].filter(([, rs]) => rs.some((r) => r.cache.edge)).map(([p]) => p);
  const plans: EdgeBehaviorPlan[] = [];
  for (const [pathPattern, group] of groups) {
    const cached = group.filter((r) => r.cache.edge);
    if (cached.length > 1) {
      throw new Error(
        `routes: ${cached.map((r) => `'${r.key}'`).join(' and ')} are edge-cached under the same CloudFront path pattern ${pathPattern}; give them distinct paths or cache only one at the edge`,
      );
    }
    if (cached.length === 1) checkCachedRoute(cached[0]);
    if (cached.length === 1 || cachedPatterns.some((p) => p !== pathPattern && globsIntersect(p, pathPattern))) {
      plans.push({ pathPattern, cachedRoute: cached[0], routes: group });
    }
  }
  plans.sort((a, b) => comparePatterns(a.pathPattern, b.pathPattern));
  // CloudFront's `*` also spans `/`, API Gateway's `{param}` does not: a pattern placed first
  // may still capture paths of a later one (`/a/*/d` takes `/a/1/2/d` of `/a/{x}/{y}/d`).
  plans.forEach((later, j) => {
    for (const route of later.routes) {
      const sample = samplePath(route.path);
      const earlier = plans.slice(0, j).find((p) => globsIntersect(p.pathPattern, sample));
      if (earlier && (earlier.cachedRoute || later.cachedRoute)) {
        const other = earlier.cachedRoute ?? earlier.routes[0];
        throw new Error(
          `routes: CloudFront cannot tell '${route.key}' from '${other.key}': the path pattern ${earlier.pathPattern}, evaluated first, also matches ${route.path} (a CloudFront * spans several path segments); rename one of the paths`,
        );
      }
    }
  });
  return plans;
}

/** A path of the route's shape whose parameter values no literal segment can equal. */
function samplePath(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}');
}

/** What CloudFront cannot cache as the route's spec says. */
function checkCachedRoute(route: ParsedRoute): void {
  const prop = `routes['${route.key}'].cache`;
  if (route.cache.edge!.maxTtl === 0) {
    throw new Error(`${prop}.edge: ttl and maxTtl of 0 disable edge caching; remove cache.edge instead`);
  }
  checkHeaders(`${prop}.key.headers`, route.cache.key.headers);
  const keyed = new Set(route.cache.key.headers.map((h) => h.toLowerCase()));
  const unkeyed = Object.keys(route.options.request?.headers ?? {}).filter((h) => !keyed.has(h.toLowerCase()));
  if (unkeyed.length > 0) {
    throw new Error(
      `${prop}.key.headers must include every header in request.headers of an edge-cached route (CloudFront forwards only keyed headers, so the handler would see them missing); missing: ${unkeyed.join(', ')}`,
    );
  }
}

/**
 * Orders path patterns as API Gateway resolves paths: at the first position where one has a
 * literal segment and the other a parameter, the literal wins; otherwise the longer path.
 */
function comparePatterns(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const aw = as[i] === '*';
    const bw = bs[i] === '*';
    if (aw !== bw) return aw ? 1 : -1;
  }
  if (as.length !== bs.length) return bs.length - as.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether some path matches both CloudFront patterns (`*` matches any characters, `/` included;
 * `?` exactly one).
 */
export function globsIntersect(a: string, b: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (i < a.length && a[i] === '*') result = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && b[j] === '*') result = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else result = i < a.length && j < b.length && (a[i] === b[j] || a[i] === '?' || b[j] === '?') && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/** Throws when CloudFront cannot forward or key on one of `headers`. */
export function checkHeaders(prop: string, headers: string[]): void {
  const forbidden = headers.filter((h) => (EDGE_LIMITS.forbiddenKeyHeaders as readonly string[]).includes(h.toLowerCase()));
  if (forbidden.length > 0) {
    throw new Error(`${prop}: CloudFront cannot forward or key on ${forbidden.join(', ')}`);
  }
}
