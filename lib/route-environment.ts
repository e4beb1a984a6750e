import { cacheControlFor } from './cache-control';
import { ParsedRoute } from './route-table';
import { ROUTE_ENV } from './runtime-env';

/**
 * The environment variables through which a route's function learns its settings. The stack
 * and the local dev server both use this, so a handler sees the same settings in both.
 * @param keyPrefix namespace of the route's data-cache keys (the stack name in a stack).
 */
export function routeEnvironment(route: ParsedRoute, keyPrefix: string): Record<string, string> {
  const env: Record<string, string> = {
    [ROUTE_ENV.routeKey]: route.key,
    [ROUTE_ENV.maxBodyBytes]: String(route.maxBodyBytes),
    [ROUTE_ENV.cacheControl]: cacheControlFor(route),
  };
  if (route.cache.key.headers.length > 0) env[ROUTE_ENV.vary] = route.cache.key.headers.join(',');
  if (route.cache.key.queryStrings.length > 0) env[ROUTE_ENV.cacheKeyQueryStrings] = route.cache.key.queryStrings.join(',');
  const data = route.cache.data;
  if (data) {
    env[ROUTE_ENV.dataCacheTtl] = String(data.ttl);
    env[ROUTE_ENV.dataCacheNegativeTtl] = String(data.negativeTtl);
    env[ROUTE_ENV.dataCacheStaleWhileRevalidate] = String(data.staleWhileRevalidate);
    env[ROUTE_ENV.dataCacheStaleIfError] = String(data.staleIfError);
    env[ROUTE_ENV.dataCacheJitter] = String(data.jitter);
    env[ROUTE_ENV.dataCacheKeyPrefix] = keyPrefix;
  }
  return env;
}
