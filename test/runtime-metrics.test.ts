import { AsyncLocalStorage } from 'node:async_hooks';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { cacheableJson, DATA_CACHE_HEADER, DataCacheStatus } from '../lambda/runtime/http/caching';
import { notFound } from '../lambda/runtime/http/errors';
import { apiHandler, ApiHandler } from '../lambda/runtime/http/handler';
import { INVOCATION_ENV } from '../lambda/runtime/invocation-env';
import { emfDocument, EMF_LIMITS } from '../lambda/runtime/metrics/emf';
import { METRICS_ENV, REQUEST_DIMENSIONS, REQUEST_METRICS } from '../lambda/runtime/metrics/env';
import { log } from '../lambda/runtime/metrics/log';
import { DATA_CACHE_RESPONSE_HEADER, timeOrigin } from '../lambda/runtime/metrics/request-metrics';
import {
  METRICS_ENV as INFRA_METRICS_ENV,
  REQUEST_DIMENSIONS as INFRA_REQUEST_DIMENSIONS,
  REQUEST_METRICS as INFRA_REQUEST_METRICS,
} from '../lib/monitoring/api-monitoring-defaults';
import { restEvent } from './support/events';

// ---------------------------------------------------------------------------------------------
// An EMF validator written from the specification
// (CloudWatch_Embedded_Metric_Format_Specification): what CloudWatch needs to extract metrics.
// ---------------------------------------------------------------------------------------------
const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits',
  'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second',
  'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second',
  'Terabits/Second', 'Count/Second', 'None',
]);

/** Every way `doc` breaks the EMF specification; empty when CloudWatch would extract its metrics. */
function emfProblems(doc: Record<string, any>): string[] {
  const problems: string[] = [];
  const aws = doc._aws;
  if (typeof aws !== 'object' || aws === null) return ['no _aws object at the top level'];
  if (!Number.isInteger(aws.Timestamp) || aws.Timestamp <= 0) problems.push('_aws.Timestamp is not epoch milliseconds');
  if (!Array.isArray(aws.CloudWatchMetrics) || aws.CloudWatchMetrics.length === 0) return [...problems, 'no CloudWatchMetrics directive'];
  for (const directive of aws.CloudWatchMetrics) {
    if (typeof directive.Namespace !== 'string' || directive.Namespace.length < 1 || directive.Namespace.length > 1024) problems.push('bad Namespace');
    if (!Array.isArray(directive.Dimensions)) problems.push('Dimensions is not an array');
    for (const set of directive.Dimensions ?? []) {
      if (!Array.isArray(set) || set.length > 30) problems.push('a dimension set is not an array of at most 30 names');
      for (const name of set) {
        if (typeof doc[name] !== 'string' || doc[name].trim() === '' || doc[name].length > 1024) problems.push(`dimension ${name} has no string value`);
      }
    }
    if (!Array.isArray(directive.Metrics) || directive.Metrics.length > 100) problems.push('Metrics is not an array of at most 100');
    for (const metric of directive.Metrics ?? []) {
      if (typeof metric.Name !== 'string' || metric.Name.length < 1 || metric.Name.length > 1024) problems.push('a metric has no Name');
      if (metric.Unit !== undefined && !UNITS.has(metric.Unit)) problems.push(`metric ${metric.Name} has unit ${metric.Unit}`);
      if (metric.StorageResolution !== undefined && metric.StorageResolution !== 1 && metric.StorageResolution !== 60) problems.push(`metric ${metric.Name} storage resolution`);
      const value = doc[metric.Name];
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.length > 100 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        problems.push(`metric ${metric.Name} has no numeric value (${JSON.stringify(value)})`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Running handlers as Lambda would, with stdout captured
// ---------------------------------------------------------------------------------------------
const ROUTE = 'GET /items/{id}';
const METRICS_ON = { ROUTE_KEY: ROUTE, METRICS_NAMESPACE: 'CacheableApi', METRICS_SERVICE: 'CatalogStack' };
const CONTEXT = { awsRequestId: 'lambda-invocation-1' } as Context;

// Per-invocation environment, the way the dev server gives each request its route's variables.
const envStore = new AsyncLocalStorage<NodeJS.ProcessEnv>();
(globalThis as Record<symbol, unknown>)[INVOCATION_ENV] = envStore;

interface Run {
  readonly response: APIGatewayProxyResult;
  /** Every line written to stdout during the run. */
  readonly lines: string[];
}

let writeSpy: jest.SpyInstance | undefined;
afterEach(() => {
  writeSpy?.mockRestore();
  writeSpy = undefined;
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
});

/** Captures what is written to stdout until the returned function is called. */
function captureStdout(): () => string[] {
  const chunks: string[] = [];
  writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  return () => {
    writeSpy?.mockRestore();
    writeSpy = undefined;
    return chunks.join('').split('\n').filter((l) => l !== '');
  };
}

async function run(handler: ApiHandler, env: NodeJS.ProcessEnv, event: APIGatewayProxyEvent = restEvent(ROUTE, '/items/lamp-1')): Promise<Run> {
  const stop = captureStdout();
  try {
    const response = await envStore.run({ ...env }, () => handler(event, CONTEXT));
    return { response, lines: stop() };
  } catch (error) {
    stop();
    throw error;
  }
}

/** The single stdout line of a run, parsed. */
function onlyRecord(result: Run): Record<string, any> {
  expect(result.lines).toHaveLength(1);
  return JSON.parse(result.lines[0]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ITEM = { id: 'lamp-1', name: 'Desk lamp', price: 39.5 };

/** A GET handler in the shape of the catalog's: serves from the data cache, loads the origin on a miss. */
function cachedGet(result: DataCacheStatus, originMs = 0): ApiHandler {
  return apiHandler(async (event) => {
    const item = result === 'hit' ? ITEM : await timeOrigin(async () => (await sleep(originMs), ITEM));
    return cacheableJson(event, 200, item, { dataCache: result });
  });
}

describe('EMF from a handler run', () => {
  test('a data-cache hit prints one valid EMF line: namespace, Service and Route dimensions, counters with units', async () => {
    const result = await run(cachedGet('hit'), METRICS_ON);
    expect(result.response.statusCode).toBe(200);
    const doc = onlyRecord(result);
    expect(emfProblems(doc)).toEqual([]);
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
    expect(directive.Namespace).toBe('CacheableApi');
    expect(directive.Dimensions).toEqual([['Service', 'Route']]);
    expect(doc.Service).toBe('CatalogStack');
    expect(doc.Route).toBe(ROUTE);
    expect(directive.Metrics).toEqual([
      { Name: 'Faults', Unit: 'Count' },
      { Name: 'ClientErrors', Unit: 'Count' },
      { Name: 'DataCacheHit', Unit: 'Count' },
      { Name: 'DataCacheMiss', Unit: 'Count' },
      { Name: 'DataCacheStale', Unit: 'Count' },
      { Name: 'DataCacheError', Unit: 'Count' },
      { Name: 'DataCacheBypass', Unit: 'Count' },
    ]);
    expect(doc).toMatchObject({ Faults: 0, ClientErrors: 0, DataCacheHit: 1, DataCacheMiss: 0, DataCacheStale: 0, DataCacheError: 0, DataCacheBypass: 0 });
    // A hit loads nothing from the origin: no latency sample.
    expect(doc).not.toHaveProperty('OriginLatency');
    expect(Math.abs(doc._aws.Timestamp - Date.now())).toBeLessThan(5000);
  });

  test('a miss records the miss and the origin load latency in milliseconds', async () => {
    const doc = onlyRecord(await run(cachedGet('miss', 25), METRICS_ON));
    expect(emfProblems(doc)).toEqual([]);
    expect(doc._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: 'OriginLatency', Unit: 'Milliseconds' });
    expect(doc).toMatchObject({ DataCacheHit: 0, DataCacheMiss: 1, Faults: 0 });
    expect(doc.OriginLatency).toHaveLength(1);
    expect(doc.OriginLatency[0]).toBeGreaterThanOrEqual(20);
    expect(doc.OriginLatency[0]).toBeLessThan(5000);
    expect(doc.originLoads).toBe(1);
  });

  test.each<[DataCacheStatus, string]>([
    ['stale', 'DataCacheStale'],
    ['error', 'DataCacheError'],
    ['bypass', 'DataCacheBypass'],
  ])('X-Data-Cache: %s counts %s and nothing else', async (status, metric) => {
    const doc = onlyRecord(await run(cachedGet(status), METRICS_ON));
    expect(emfProblems(doc)).toEqual([]);
    const counters = ['DataCacheHit', 'DataCacheMiss', 'DataCacheStale', 'DataCacheError', 'DataCacheBypass'];
    for (const name of counters) expect([name, doc[name]]).toEqual([name, name === metric ? 1 : 0]);
  });

  test('several origin loads in one request are all recorded, in order', async () => {
    const handler = apiHandler(async (event) => {
      await timeOrigin(() => sleep(15));
      await timeOrigin(() => 'synchronous value');
      return cacheableJson(event, 200, {}, { dataCache: 'miss' });
    });
    const doc = onlyRecord(await run(handler, METRICS_ON));
    expect(emfProblems(doc)).toEqual([]);
    expect(doc.OriginLatency).toHaveLength(2);
    expect(doc.OriginLatency[0]).toBeGreaterThanOrEqual(10);
    expect(doc.OriginLatency[1]).toBeLessThan(doc.OriginLatency[0]);
  });

  test('a handler without a data cache sends no data-cache counters', async () => {
    const handler = apiHandler(async () => ({ statusCode: 204, headers: {}, body: '' }));
    const doc = onlyRecord(await run(handler, METRICS_ON));
    expect(emfProblems(doc)).toEqual([]);
    expect(doc._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual(['Faults', 'ClientErrors']);
    expect(doc.statusCode).toBe(204);
  });

  test('an HttpError counts as a client error; the answer is unchanged', async () => {
    const result = await run(apiHandler(async () => { throw notFound('Item lamp-9 not found'); }), METRICS_ON);
    expect(result.response.statusCode).toBe(404);
    expect(JSON.parse(result.response.body)).toMatchObject({ code: 'NOT_FOUND', requestId: expect.any(String) });
    const doc = onlyRecord(result);
    expect(doc).toMatchObject({ ClientErrors: 1, Faults: 0, statusCode: 404, level: 'INFO' });
  });

  test('an unhandled error is logged, answered 500 as before, and counted as a fault', async () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const event = restEvent(ROUTE, '/items/lamp-1');
      const handler = apiHandler(async () => {
        await timeOrigin(async () => { throw new Error('table unreachable'); }).catch(() => undefined);
        throw new Error('boom');
      });
      const result = await run(handler, METRICS_ON, event);
      expect(result.response.statusCode).toBe(500);
      expect(JSON.parse(result.response.body)).toEqual({ code: 'INTERNAL_ERROR', message: 'Internal server error', requestId: event.requestContext.requestId });
      expect(errors).toHaveBeenCalledTimes(1);
      const logged = JSON.parse(errors.mock.calls[0][0] as string);
      expect(logged).toMatchObject({ level: 'ERROR', message: 'Unhandled error', requestId: event.requestContext.requestId, awsRequestId: 'lambda-invocation-1' });
      expect(logged.error).toContain('boom');
      const doc = onlyRecord(result);
      expect(emfProblems(doc)).toEqual([]);
      expect(doc).toMatchObject({ Faults: 1, ClientErrors: 0, level: 'ERROR', statusCode: 500, originLoads: 1, originErrors: 1 });
    } finally {
      errors.mockRestore();
    }
  });
});

describe('structured request log', () => {
  test('the line is JSON with both request ids, route, method, path, status, duration and data-cache result', async () => {
    const event = restEvent(ROUTE, '/items/lamp-1');
    const doc = onlyRecord(await run(cachedGet('hit'), METRICS_ON, event));
    expect(doc).toMatchObject({
      level: 'INFO',
      message: 'request',
      requestId: event.requestContext.requestId,
      awsRequestId: 'lambda-invocation-1',
      method: 'GET',
      path: '/items/lamp-1',
      statusCode: 200,
      dataCache: 'hit',
      originLoads: 0,
    });
    expect(typeof doc.durationMs).toBe('number');
    expect(new Date(doc.timestamp).toISOString()).toBe(doc.timestamp);
  });

  test('in Lambda without METRICS_NAMESPACE the line is a plain log: no _aws, so no metric is billed', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'catalog-get-item';
    const doc = onlyRecord(await run(cachedGet('miss', 1), { ROUTE_KEY: ROUTE }));
    expect(doc).not.toHaveProperty('_aws');
    expect(doc).not.toHaveProperty('DataCacheMiss');
    expect(doc).toMatchObject({ message: 'request', Route: ROUTE, dataCache: 'miss', originLoads: 1, requestId: expect.any(String) });
  });

  test('outside Lambda and without METRICS_NAMESPACE (tests, local tools) nothing is written', async () => {
    const result = await run(cachedGet('hit'), { ROUTE_KEY: ROUTE });
    expect(result.lines).toEqual([]);
    expect(result.response.statusCode).toBe(200);
  });

  test('log() writes one JSON line with the current request ids', async () => {
    const event = restEvent(ROUTE, '/items/lamp-1');
    const handler = apiHandler(async () => {
      log('WARN', 'slow origin', { ms: 812 });
      return { statusCode: 200, body: '' };
    });
    const result = await run(handler, {}, event); // metrics off: only log()'s line
    expect(result.lines.map((l) => JSON.parse(l))).toEqual([
      { timestamp: expect.any(String), level: 'WARN', message: 'slow origin', requestId: event.requestContext.requestId, awsRequestId: 'lambda-invocation-1', ms: 812 },
    ]);
  });
});

describe('per-request context', () => {
  test('concurrent requests keep their own origin loads (AsyncLocalStorage)', async () => {
    const handler = apiHandler(async (event) => {
      const ms = Number(event.pathParameters?.id);
      await timeOrigin(() => sleep(ms));
      await timeOrigin(() => sleep(ms));
      return cacheableJson(event, 200, { ms }, { dataCache: 'miss' });
    });
    const stop = captureStdout();
    await Promise.all(
      ['60', '5'].map((id) => envStore.run({ ...METRICS_ON }, () => handler(restEvent(ROUTE, `/items/${id}`), CONTEXT))),
    );
    const docs = stop().map((l) => JSON.parse(l));
    expect(docs.map((d) => d.path)).toEqual(['/items/5', '/items/60']);
    expect(docs[0].OriginLatency).toHaveLength(2);
    expect(docs[1].OriginLatency).toHaveLength(2);
    expect(Math.max(...docs[0].OriginLatency)).toBeLessThan(50);
    expect(Math.min(...docs[1].OriginLatency)).toBeGreaterThanOrEqual(50);
  });

  test('timeOrigin outside a request only runs the load', async () => {
    await expect(timeOrigin(async () => 42)).resolves.toBe(42);
    await expect(timeOrigin(() => { throw new Error('x'); })).rejects.toThrow('x');
  });

  test('the route comes from the invocation environment, so one process can serve several routes', async () => {
    const handler = cachedGet('hit');
    const stop = captureStdout();
    await envStore.run({ ...METRICS_ON, ROUTE_KEY: 'GET /items' }, () => handler(restEvent('GET /items', '/items'), CONTEXT));
    await envStore.run({ ...METRICS_ON, METRICS_SERVICE: 'Other' }, () => handler(restEvent(ROUTE, '/items/lamp-1'), CONTEXT));
    const docs = stop().map((l) => JSON.parse(l));
    expect(docs.map((d) => [d.Service, d.Route])).toEqual([['CatalogStack', 'GET /items'], ['Other', ROUTE]]);
  });

  test('a failing stdout never fails the request', async () => {
    writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation(() => {
      throw new Error('EPIPE');
    });
    const response = await envStore.run({ ...METRICS_ON }, () => cachedGet('hit')(restEvent(ROUTE, '/items/lamp-1'), CONTEXT));
    expect(response.statusCode).toBe(200);
  });
});

describe('EMF writer', () => {
  test('drops non-finite values, cuts arrays to 100 values, and a record without metrics has no _aws', () => {
    const doc = emfDocument({
      namespace: 'N',
      dimensions: { Route: 'r' },
      metrics: [
        { name: 'Bad', unit: 'Count', value: Number.NaN },
        { name: 'Many', unit: 'Milliseconds', value: Array.from({ length: 150 }, (_, i) => i) },
        { name: 'Fast', unit: 'Count', value: 1, storageResolution: 1 },
      ],
      properties: { Many: 'a property never overwrites a metric', Route: 'nor a dimension' },
      timestamp: 1_700_000_000_000,
    });
    expect(emfProblems(doc)).toEqual([]);
    expect(doc).not.toHaveProperty('Bad');
    expect((doc.Many as number[]).length).toBe(EMF_LIMITS.valuesPerMetric);
    expect(doc.Route).toBe('r');
    expect((doc._aws as any).CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'Many', Unit: 'Milliseconds' },
      { Name: 'Fast', Unit: 'Count', StorageResolution: 1 },
    ]);
    expect(emfDocument({ namespace: 'N', dimensions: { Route: 'r' }, metrics: [], properties: { a: 1 } })).toEqual({ a: 1, Route: 'r' });
  });

  test('the validator catches what CloudWatch would reject (so the tests above can fail)', () => {
    expect(emfProblems({ message: 'no metadata' })).toEqual(['no _aws object at the top level']);
    const broken = {
      _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['Route']], Metrics: [{ Name: 'M', Unit: 'Furlongs' }, { Name: 'Missing', Unit: 'Count' }] }] },
      M: 'seven',
    };
    expect(emfProblems(broken)).toEqual([
      'dimension Route has no string value',
      'metric M has unit Furlongs',
      'metric M has no numeric value ("seven")',
      'metric Missing has no numeric value (undefined)',
    ]);
  });
});

describe('contracts shared with lib/ and the HTTP caching helpers', () => {
  test('infrastructure and runtime agree on the metrics variables, metric and dimension names', () => {
    expect(METRICS_ENV).toEqual(INFRA_METRICS_ENV);
    expect(REQUEST_METRICS).toEqual(INFRA_REQUEST_METRICS);
    expect(REQUEST_DIMENSIONS).toEqual(INFRA_REQUEST_DIMENSIONS);
  });

  test('the header read is the one the caching helpers write', () => {
    expect(DATA_CACHE_RESPONSE_HEADER).toBe(DATA_CACHE_HEADER.toLowerCase());
  });
});
