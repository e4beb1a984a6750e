import { createHash } from 'crypto';
import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
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

/** The runtime accepts key prefixes of 1 to 32 letters, digits and `._-`. */
const KEY_PREFIX = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * The data-cache key namespace of a stack: its name, or, when that does not fit the runtime's
 * 32-character prefix, a shortened name with a hash of the full one (still unique per stack).
 * Route functions and the stream purge must agree on it, so both take it from here.
 */
export function dataCacheKeyPrefix(scope: IConstruct): string {
  const name = Stack.of(scope).stackName;
  if (KEY_PREFIX.test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 23)}-${hash}`;
}
