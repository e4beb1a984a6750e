import type { ParsedRoute } from '../api/route-table';
import { encodeInvalidationPathValue, invalidationPathMatches, normaliseInvalidationPath } from '../../lambda/purge/paths';

// The runtime's path functions, so the constructs, the purge and the dev edge spell paths alike.
export { encodeInvalidationPathValue, invalidationPathMatches, normaliseInvalidationPath };

/**
 * The CloudFront path pattern of a route path: each `{parameter}` (greedy or not) becomes
 * `*`. `/items/{id}` → `/items/*`, `/items` → `/items`.
 */
export function edgePathPattern(path: string): string {
  if (path === '/') return '/';
  return '/' + path.slice(1).split('/').map((s) => (s.startsWith('{') ? '*' : s)).join('/');
}

/**
 * Cache invalidation paths of the edge-cached routes, for the edge purge function: per
 * edge-cached GET route, templates whose `{parameters}` the purge fills in.
 *
 * - the route's path itself (`/items`, `/items/{id}`): the object requested without a query string;
 * - when the route keys on query strings, also the path followed by `?*` (`/items?*`), which
 *   removes every cached query-string variant (`/items?limit=10&cursor=...`) and nothing else.
 *
 * A bare `/items*` would do both in one path but also match every `/items/{id}` and
 * `/items-archive`: one item's write would evict every other item at the edge.
 *
 * Paths are the viewer's (the stage name is CloudFront's origin path, not part of them).
 */
export function edgeInvalidationPaths(routes: readonly ParsedRoute[]): string[] {
  const paths: string[] = [];
  for (const route of routes) {
    if (route.method !== 'GET' || !route.cache.edge) continue;
    paths.push(route.path);
    if (route.cache.key.queryStrings.length > 0) paths.push(`${route.path}?*`);
  }
  return [...new Set(paths)];
}

/**
 * What the edge purge invalidates for a write, with the write's path parameters standing in for
 * the changed item's attributes: `edgeInvalidationPaths` filled, values encoded as CloudFront
 * matches them; a template whose parameter is missing is purged from its literal prefix
 * (`/items/{id}` → `/items/*`), as the stream purge does for a record lacking the attribute.
 * This is the contract of the dev edge's `purgePathsForWrite`.
 */
export function invalidationPathsForWrite(
  routes: readonly ParsedRoute[],
  pathParameters: Readonly<Record<string, string>>,
): string[] {
  const paths = new Set<string>();
  for (const template of edgeInvalidationPaths(routes)) {
    let filled = '';
    let complete = true;
    for (const part of template.split(/(\{[^}]+\})/)) {
      const param = /^\{([^}+]+)(\+?)\}$/.exec(part);
      if (!param) {
        filled += part;
        continue;
      }
      const value = pathParameters[param[1]];
      if (value === undefined) {
        complete = false;
        break;
      }
      filled += encodeInvalidationPathValue(value, param[2] === '+');
    }
    paths.add(complete ? filled : `${filled}*`);
  }
  return [...paths];
}
