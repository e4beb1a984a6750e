import { ParsedRoute } from './route-table';
import { NO_STORE } from './runtime-env';

/**
 * The `Cache-Control` header a route's successful responses carry, derived from its cache
 * spec: browsers get `max-age`, CloudFront `s-maxage` and the stale windows. Anything not
 * edge-cached (writes, authenticated or uncached reads) is `private, no-store`.
 */
export function cacheControlFor(route: ParsedRoute): string {
  const edge = route.cache.edge;
  if (route.method !== 'GET' || !edge) return NO_STORE;
  const directives = ['public', `max-age=${edge.browserTtl}`, `s-maxage=${edge.ttl}`];
  if (edge.staleWhileRevalidate !== undefined) directives.push(`stale-while-revalidate=${edge.staleWhileRevalidate}`);
  if (edge.staleIfError !== undefined) directives.push(`stale-if-error=${edge.staleIfError}`);
  return directives.join(', ');
}
