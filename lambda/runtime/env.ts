/**
 * Environment variables the infrastructure sets on a route's function (lib/api/runtime-env.ts
 * writes the same names; test/env-contract.test.ts keeps the two lists equal).
 */
export const ROUTE_ENV = {
  routeKey: 'ROUTE_KEY',
  maxBodyBytes: 'ROUTE_MAX_BODY_BYTES',
  cacheControl: 'ROUTE_CACHE_CONTROL',
  vary: 'ROUTE_VARY',
  cacheKeyQueryStrings: 'ROUTE_CACHE_KEY_QUERY',
  corsAllowOrigins: 'ROUTE_CORS_ALLOW_ORIGINS',
  corsAllowCredentials: 'ROUTE_CORS_ALLOW_CREDENTIALS',
  corsExposeHeaders: 'ROUTE_CORS_EXPOSE_HEADERS',
  dataCacheTtl: 'DATA_CACHE_TTL_SECONDS',
  dataCacheNegativeTtl: 'DATA_CACHE_NEGATIVE_TTL_SECONDS',
  dataCacheStaleWhileRevalidate: 'DATA_CACHE_SWR_SECONDS',
  dataCacheStaleIfError: 'DATA_CACHE_SIE_SECONDS',
  dataCacheJitter: 'DATA_CACHE_JITTER',
  dataCacheKeyPrefix: 'DATA_CACHE_KEY_PREFIX',
} as const;

/** Reads a non-negative integer setting, falling back when it is absent or malformed. */
export function envInt(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
