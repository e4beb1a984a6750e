import { Duration } from 'aws-cdk-lib';

/**
 * Environment variables ApiMonitoring sets on every route function to switch on the request
 * metrics of the runtime (lambda/runtime/metrics/env.ts reads the same names;
 * test/runtime-metrics.test.ts keeps the two equal without lib/ and lambda/ importing each other).
 */
export const METRICS_ENV = {
  /** CloudWatch namespace of the request metrics. Unset: no metrics, only the request log line. */
  namespace: 'METRICS_NAMESPACE',
  /** Value of the `Service` dimension (ApiMonitoring: the stack name). */
  service: 'METRICS_SERVICE',
} as const;

/** Names of the per-request EMF metrics the runtime writes, dimensions `Service` and `Route`. */
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

/**
 * Defaults of ApiMonitoring, kept in one place; user props are merged over them. Each threshold
 * is explained in lib/monitoring/README.md.
 */
export const API_MONITORING_DEFAULTS = {
  metricsNamespace: 'CacheableApi',
  period: Duration.minutes(5),
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  serverErrorRatePercent: 1,
  minRequestsForErrorRate: 20,
  latencyP99: Duration.seconds(2),
  /** API-level sums instead of three alarms per route (issue 16: 123 alarms at 40 routes). */
  routeAlarms: false,
  functionErrors: 1,
  functionThrottles: 1,
  dataCacheHitRatioPercent: 50,
  minLookupsForHitRatio: 20,
  cacheCpuPercent: 80,
  cacheMemoryPercent: 90,
  cacheThrottledCommands: 1,
  cloudFrontAdditionalMetrics: false,
  cloudFrontErrorRatePercent: 5,
  createAlarmTopic: false,
  iteratorAge: Duration.minutes(5),
  cacheNodeCount: 2,
};

/** CloudFront publishes its metrics in this region only, with dimension `Region: Global`. */
export const CLOUDFRONT_METRICS_REGION = 'us-east-1';
