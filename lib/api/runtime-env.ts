/**
 * Environment variables through which the infrastructure tells a route's handler what it
 * needs. The runtime (lambda/runtime/env.ts) reads the same names; test/env-contract.test.ts
 * keeps the two lists equal without lib/ and lambda/ importing each other.
 */
export const ROUTE_ENV = {
  /** The route key, e.g. `GET /items/{id}`. */
  routeKey: 'ROUTE_KEY',
  /** Largest accepted request body in bytes. */
  maxBodyBytes: 'ROUTE_MAX_BODY_BYTES',
  /** `Cache-Control` value for successful responses. */
  cacheControl: 'ROUTE_CACHE_CONTROL',
  /** Comma-separated request headers that key the response (`Vary`). */
  vary: 'ROUTE_VARY',
  /** Comma-separated query strings that key the response. */
  cacheKeyQueryStrings: 'ROUTE_CACHE_KEY_QUERY',
  /** Comma-separated origins allowed by CORS (`*` for any); unset without CORS. */
  corsAllowOrigins: 'ROUTE_CORS_ALLOW_ORIGINS',
  /** `true` when CORS allows credentials. */
  corsAllowCredentials: 'ROUTE_CORS_ALLOW_CREDENTIALS',
  /** Comma-separated response headers exposed to the page. */
  corsExposeHeaders: 'ROUTE_CORS_EXPOSE_HEADERS',
  /** Data-cache settings of the route. */
  dataCacheTtl: 'DATA_CACHE_TTL_SECONDS',
  dataCacheNegativeTtl: 'DATA_CACHE_NEGATIVE_TTL_SECONDS',
  dataCacheStaleWhileRevalidate: 'DATA_CACHE_SWR_SECONDS',
  dataCacheStaleIfError: 'DATA_CACHE_SIE_SECONDS',
  dataCacheJitter: 'DATA_CACHE_JITTER',
  dataCacheKeyPrefix: 'DATA_CACHE_KEY_PREFIX',
} as const;

/** `Cache-Control` for responses no shared cache may keep. */
export const NO_STORE = 'private, no-store';
