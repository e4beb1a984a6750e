import { AsyncLocalStorage } from 'node:async_hooks';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { CacheOutcome } from '../cache/types';
import { invocationEnv } from '../invocation-env';
import { ROUTE_ENV } from '../env';
import { EmfMetric, emfLine, writeLine } from './emf';
import { DEFAULT_SERVICE, METRICS_ENV, REQUEST_DIMENSIONS, REQUEST_METRICS } from './env';

/** How the data cache took part in an answer, as handlers report it in `X-Data-Cache`. */
export type DataCacheResult = CacheOutcome;

/** The response header the HTTP caching helpers set (lambda/runtime/http/caching.ts), lower-cased. */
export const DATA_CACHE_RESPONSE_HEADER = 'x-data-cache';

const DATA_CACHE_RESULTS: Record<DataCacheResult, string> = {
  hit: REQUEST_METRICS.dataCacheHit,
  miss: REQUEST_METRICS.dataCacheMiss,
  stale: REQUEST_METRICS.dataCacheStale,
  error: REQUEST_METRICS.dataCacheError,
  bypass: REQUEST_METRICS.dataCacheBypass,
};

/** What one request collects while it runs. */
export interface RequestRecord {
  /** API Gateway's request id: the one callers see in error bodies and the access log. */
  readonly requestId?: string;
  /** Lambda's invocation id. */
  readonly awsRequestId?: string;
  /** `performance.now()` at the start. */
  readonly startedAt: number;
  /** Milliseconds of each origin load timed with `timeOrigin`. */
  readonly originMs: number[];
  /** Origin loads that threw. */
  originErrors: number;
}

/**
 * Per-request context. AsyncLocalStorage rather than a module variable because a local host
 * (the dev server) serves requests of several routes concurrently in one process; its cost
 * is measured in README.md.
 */
const storage = new AsyncLocalStorage<RequestRecord>();
let coldStart = true;

/** The record of the request being served, if any. */
export function currentRequest(): RequestRecord | undefined {
  return storage.getStore();
}

/** Runs `fn` with `record` as the current request. */
export function runRequest<T>(record: RequestRecord, fn: () => Promise<T>): Promise<T> {
  return storage.run(record, fn);
}

/** A fresh record for a request starting now. */
export function newRequestRecord(requestId: string | undefined, awsRequestId: string | undefined): RequestRecord {
  return { requestId, awsRequestId, startedAt: performance.now(), originMs: [], originErrors: 0 };
}

/**
 * Runs an origin (primary store) load and records how long it took in the current request:
 * `const item = await timeOrigin(() => repo.get(id))`. Outside a request it only runs `load`.
 * A load that throws is timed too, and counted in `originErrors`.
 */
export async function timeOrigin<T>(load: () => Promise<T> | T): Promise<T> {
  const record = storage.getStore();
  if (!record) return load();
  const started = performance.now();
  try {
    return await load();
  } catch (error) {
    record.originErrors += 1;
    throw error;
  } finally {
    record.originMs.push(round(performance.now() - started));
  }
}

/** The `X-Data-Cache` value of a response, when it is one of the known results. */
export function dataCacheResult(response: APIGatewayProxyResult): DataCacheResult | undefined {
  let value: unknown;
  for (const [name, v] of Object.entries(response.headers ?? {})) {
    if (name.toLowerCase() === DATA_CACHE_RESPONSE_HEADER) value = v;
  }
  if (value === undefined) {
    for (const [name, v] of Object.entries(response.multiValueHeaders ?? {})) {
      if (name.toLowerCase() === DATA_CACHE_RESPONSE_HEADER) value = v[0];
    }
  }
  const result = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  return result !== undefined && Object.prototype.hasOwnProperty.call(DATA_CACHE_RESULTS, result) ? (result as DataCacheResult) : undefined;
}

interface MetricsSettings {
  /** Namespace, or undefined when metrics are off. */
  readonly namespace?: string;
  readonly service: string;
  readonly route?: string;
}

const parsed = new WeakMap<NodeJS.ProcessEnv, MetricsSettings>();

function metricsSettings(env: NodeJS.ProcessEnv): MetricsSettings {
  let settings = parsed.get(env);
  if (!settings) {
    settings = {
      namespace: env[METRICS_ENV.namespace] || undefined,
      service: env[METRICS_ENV.service] || DEFAULT_SERVICE,
      route: env[ROUTE_ENV.routeKey] || undefined,
    };
    parsed.set(env, settings);
  }
  return settings;
}

/**
 * The request's log line: structured JSON with the request ids, route, status, duration,
 * data-cache result and origin loads; when METRICS_NAMESPACE is set, also an EMF record of the
 * request metrics (dimensions `Service` and `Route`). Undefined when nothing is to be written:
 * metrics off and not running in Lambda (tests, local tools).
 */
export function requestLogLine(
  record: RequestRecord,
  event: APIGatewayProxyEvent,
  response: APIGatewayProxyResult,
  env: NodeJS.ProcessEnv = invocationEnv(),
  now: number = Date.now(),
): string | undefined {
  const settings = metricsSettings(env);
  if (!settings.namespace && !process.env.AWS_LAMBDA_FUNCTION_NAME) return undefined;
  const route = settings.route ?? `${event.httpMethod} ${event.resource}`;
  const status = response.statusCode;
  const dataCache = dataCacheResult(response);
  const metrics: EmfMetric[] = [];
  if (settings.namespace) {
    metrics.push(
      { name: REQUEST_METRICS.faults, unit: 'Count', value: status >= 500 ? 1 : 0 },
      { name: REQUEST_METRICS.clientErrors, unit: 'Count', value: status >= 400 && status < 500 ? 1 : 0 },
    );
    if (dataCache) {
      for (const [result, name] of Object.entries(DATA_CACHE_RESULTS)) {
        metrics.push({ name, unit: 'Count', value: result === dataCache ? 1 : 0 });
      }
    }
    if (record.originMs.length > 0) metrics.push({ name: REQUEST_METRICS.originLatency, unit: 'Milliseconds', value: record.originMs });
  }
  const properties: Record<string, unknown> = {
    timestamp: new Date(now).toISOString(),
    level: status >= 500 ? 'ERROR' : 'INFO',
    message: 'request',
    requestId: record.requestId,
    awsRequestId: record.awsRequestId,
    method: event.httpMethod,
    path: event.path,
    statusCode: status,
    durationMs: round(performance.now() - record.startedAt),
    dataCache,
    originLoads: record.originMs.length,
    originErrors: record.originErrors || undefined,
    coldStart: coldStart || undefined,
    xrayTraceId: process.env._X_AMZN_TRACE_ID,
  };
  coldStart = false;
  return emfLine({
    namespace: settings.namespace ?? '',
    dimensions: { [REQUEST_DIMENSIONS.service]: settings.service, [REQUEST_DIMENSIONS.route]: route },
    metrics,
    properties,
    timestamp: now,
  });
}

/** Writes the request's log line (see requestLogLine). Never throws: metrics must not fail a request. */
export function recordRequest(record: RequestRecord, event: APIGatewayProxyEvent, response: APIGatewayProxyResult): void {
  try {
    const line = requestLogLine(record, event, response);
    if (line !== undefined) writeLine(line);
  } catch {
    // A metrics failure is not the caller's problem.
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
