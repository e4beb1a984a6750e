/**
 * Environment variables that switch request metrics on and name where they go. ApiMonitoring
 * (lib/monitoring/api-monitoring.ts) sets them on every route function and builds its dashboard and alarms
 * on the same names; lib/monitoring/api-monitoring-defaults.ts repeats them and
 * test/runtime-metrics.test.ts keeps the two equal without lib/ and lambda/ importing each other.
 */
export const METRICS_ENV = {
  /** CloudWatch namespace of the request metrics. Unset: no metrics, only the request log line. */
  namespace: 'METRICS_NAMESPACE',
  /** Value of the `Service` dimension (ApiMonitoring: the stack name). */
  service: 'METRICS_SERVICE',
} as const;

/** Names of the metrics each request records, with dimensions `Service` and `Route`. */
export const REQUEST_METRICS = {
  /** 1 when the answer was a 5xx, else 0 (Count). */
  faults: 'Faults',
  /** 1 when the answer was a 4xx, else 0 (Count). */
  clientErrors: 'ClientErrors',
  /** Data-cache outcome counters, 0 or 1 each, present when the answer carried `X-Data-Cache` (Count). */
  dataCacheHit: 'DataCacheHit',
  dataCacheMiss: 'DataCacheMiss',
  dataCacheStale: 'DataCacheStale',
  dataCacheError: 'DataCacheError',
  dataCacheBypass: 'DataCacheBypass',
  /** Duration of each origin load the handler timed with `timeOrigin` (Milliseconds). */
  originLatency: 'OriginLatency',
} as const;

/** Dimension names of the request metrics. */
export const REQUEST_DIMENSIONS = { service: 'Service', route: 'Route' } as const;

/** `Service` dimension value when METRICS_SERVICE is unset. */
export const DEFAULT_SERVICE = 'cacheable-api';
