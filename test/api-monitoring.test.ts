import * as path from 'path';
import { App, Duration, Stack, StackProps } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ApiAuthorization, CacheableApi, CacheableApiProps, RouteTable } from '../lib';
import { CATALOG_HANDLERS_DIR, catalogRoutes } from '../lib/sample';
import { ApiMonitoring, ApiMonitoringProps } from '../lib/monitoring/api-monitoring';
import { API_MONITORING_DEFAULTS } from '../lib/monitoring/api-monitoring-defaults';
import { DataCache, DataCacheEngine } from '../lib/data-cache/data-cache';
import { nagApp, synthFindings } from './support/nag';

const entry = (file: string) => path.join(CATALOG_HANDLERS_DIR, file);
/** A small API: two cached reads, a write with data-cache settings (it invalidates), an uncached route. */
const ROUTE_TABLE: RouteTable = {
  'GET /items': { entry: entry('list-items.ts'), cache: { data: { ttl: Duration.seconds(60) } } },
  'GET /items/{id}': { entry: entry('get-item.ts'), cache: { data: { ttl: Duration.minutes(5) } } },
  'PUT /items/{id}': { entry: entry('put-item.ts'), cache: { data: { ttl: Duration.minutes(5) } } },
  'GET /health': { entry: entry('health.ts') },
};
const ROUTES = Object.keys(ROUTE_TABLE);
const ROUTE_IDS = ['GetItems', 'GetItemsById', 'PutItemsById', 'GetHealth'];

interface Variant {
  readonly routes?: RouteTable;
  /** CacheableApi's edge settings (edge-cached routes). */
  readonly edge?: CacheableApiProps['edge'];
  readonly engine?: DataCacheEngine;
  /** Pass the DataCache to ApiMonitoring. */
  readonly monitorCache?: boolean;
  readonly monitoring?: Omit<ApiMonitoringProps, 'api'>;
  readonly stack?: StackProps;
  readonly extra?: (stack: Stack) => Partial<ApiMonitoringProps>;
}

function monitoredStack(app: App, id: string, variant: Variant = {}) {
  const stack = new Stack(app, id, variant.stack);
  const dataCache = new DataCache(stack, 'DataCache', { engine: variant.engine });
  const api = new CacheableApi(stack, 'Api', {
    apiName: `catalog-${id.toLowerCase()}`,
    authorization: ApiAuthorization.iam(),
    routes: variant.routes ?? ROUTE_TABLE,
    dataCache,
    edge: variant.edge,
    functionDefaults: { environment: { TABLE_NAME: 'memory' } },
  });
  const monitoring = new ApiMonitoring(stack, 'Monitoring', {
    api,
    // A DataCache passed as it is: the compiler checks that it fits ApiMonitoring's `dataCache`.
    dataCache: variant.monitorCache ? dataCache : undefined,
    ...variant.monitoring,
    ...variant.extra?.(stack),
  });
  return { stack, api, monitoring, dataCache };
}

// One synthesis for the file: four variants, cdk-nag registered on the app, the sample app's
// feature flags. Stacks pin a region only: with an account too, the VPCs would hard-code
// availability zones (cfn-lint W3010).
const app = nagApp();
/** Only `api`. */
const minimal = monitoredStack(app, 'MonitoringMinimal');
/** The catalog's routes (edge-cached: the API brings its distribution), a serverless cache, a new topic, us-east-1. */
const full = monitoredStack(app, 'MonitoringFull', {
  routes: catalogRoutes(),
  edge: { forwardAuthorizationToWrites: true },
  monitorCache: true,
  monitoring: { cloudFrontAdditionalMetrics: true, createAlarmTopic: true, dashboardName: 'catalog-full' },
  stack: { env: { region: 'us-east-1' } },
});
// A stream function created after the API (as CacheSync is in the sample stack).
full.monitoring.addStreamFunctions([lambda.Function.fromFunctionName(full.stack, 'EdgePurge', 'catalog-edge-purge')]);
/** A node-based replication group of 3, a given topic and distribution, custom thresholds, eu-west-1. */
const redis = monitoredStack(app, 'MonitoringRedis', {
  engine: DataCacheEngine.replicationGroup({ numCacheClusters: 3 }),
  monitoring: {
    routeAlarms: true,
    distributionId: 'E2EXAMPLE',
    period: Duration.minutes(1),
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    serverErrorRatePercent: 2.5,
    latencyP99: Duration.millis(800),
    dataCacheHitRatioPercent: 70,
    cacheCpuPercent: 60,
  },
  extra: (stack) => ({
    dataCache: { engineName: 'redis', cacheName: 'catalog-rg', nodeCount: 3 },
    alarmTopic: sns.Topic.fromTopicArn(stack, 'OpsTopic', 'arn:aws:sns:eu-west-1:123456789012:ops'),
    streamFunctions: [lambda.Function.fromFunctionName(stack, 'DataPurge', 'catalog-data-purge')],
  }),
  stack: { env: { region: 'eu-west-1' } },
});
/** Memcached, given as a plain object; own Service and namespace. */
const memcached = monitoredStack(app, 'MonitoringMemcached', {
  engine: DataCacheEngine.memcached(),
  routes: { ...ROUTE_TABLE, 'GET /items': { ...ROUTE_TABLE['GET /items'], alarms: true } },
  monitoring: { dataCache: { engineName: 'memcached', cacheName: 'catalog-mc' }, serviceName: 'catalog', metricsNamespace: 'Shop/Api' },
});

const findings = synthFindings(app);
const templates = {
  minimal: Template.fromStack(minimal.stack),
  full: Template.fromStack(full.stack),
  redis: Template.fromStack(redis.stack),
  memcached: Template.fromStack(memcached.stack),
};

/** Alarms under the `Monitoring` construct, by the id ApiMonitoring gave them. */
function alarmsOf(template: Template): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [logicalId, resource] of Object.entries(template.findResources('AWS::CloudWatch::Alarm'))) {
    const match = /^Monitoring(.+)Alarm[0-9A-F]{8}$/.exec(logicalId);
    if (match) out[match[1]] = (resource as any).Properties;
  }
  return out;
}

/** The one metric an alarm watches, whichever form CDK rendered (labelled metrics use `Metrics`). */
function metricOf(alarm: any): { Namespace: string; MetricName: string; Dimensions: unknown; Stat: string; Period: number } {
  if (alarm.MetricName) {
    return { Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions, Stat: alarm.Statistic ?? alarm.ExtendedStatistic, Period: alarm.Period };
  }
  const stats = alarm.Metrics.filter((m: any) => m.MetricStat);
  expect(stats).toHaveLength(1);
  const { Metric, Stat, Period } = stats[0].MetricStat;
  return { Namespace: Metric.Namespace, MetricName: Metric.MetricName, Dimensions: Metric.Dimensions, Stat, Period };
}

/**
 * The value CloudWatch would compute for an alarm's math expression, given each metric's value
 * by metric name: every id is bound to the metric it names in the alarm, so an expression that
 * reads the wrong id (hits for misses, errors for requests) computes a wrong value.
 */
function evaluateAlarm(alarm: any, valuesByMetricName: Record<string, number>): number {
  const expression: string = alarm.Metrics.find((m: any) => m.Expression).Expression;
  const ids: Record<string, number> = {};
  for (const m of alarm.Metrics.filter((x: any) => x.MetricStat)) {
    const name = m.MetricStat.Metric.MetricName;
    expect(valuesByMetricName).toHaveProperty([name]);
    ids[m.Id] = valuesByMetricName[name];
  }
  // CloudWatch metric math as used here: IF(cond, a, b), + - * /, comparisons, numbers and ids.
  expect(expression).toMatch(/^[\w\s()+\-*/,.>=<]+$/);
  const js = expression.replace(/\bIF\(/g, 'IF(');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const evaluate = new Function('IF', ...Object.keys(ids), `return ${js};`) as (...args: unknown[]) => number;
  return evaluate((c: unknown, a: number, b: number) => (c ? a : b), ...Object.values(ids));
}

/** Resources of ApiMonitoring (logical ids under `Monitoring`). */
function monitoringResources(template: Template, type: string): Record<string, any> {
  return Object.fromEntries(Object.entries(template.findResources(type)).filter(([id]) => id.startsWith('Monitoring')));
}

/** The dashboard body as JSON, `{ Ref: X }` shown as `${X}`, Fn::GetAtt as `${X.Attr}`, others as `${Fn}`. */
function dashboardBody(template: Template): any {
  const dashboards = Object.values(monitoringResources(template, 'AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0].Properties.DashboardBody;
  const text = typeof body === 'string'
    ? body
    : (body['Fn::Join'][1] as unknown[])
        .map((part: any) => (typeof part === 'string' ? part : part.Ref ? `\${${part.Ref}}` : part['Fn::GetAtt'] ? `\${${part['Fn::GetAtt'].join('.')}}` : `\${${Object.keys(part)[0]}}`))
        .join('');
  return JSON.parse(text);
}

const widgetTitles = (body: any) => body.widgets.map((w: any) => w.properties.title ?? (w.type === 'text' ? '(text)' : undefined));
const widgetByTitle = (body: any, title: string) => {
  const widget = body.widgets.find((w: any) => w.properties.title === title);
  expect(widget).toBeDefined();
  return widget.properties;
};

test('cdk-nag AwsSolutions and Serverless checks report no unacknowledged finding', () => {
  expect(findings).toEqual([]);
});

describe('alarms', () => {
  test('the default set is API-level: 5xx rate, p99 latency, Lambda errors and throttles summed over the route functions', () => {
    const alarms = alarmsOf(templates.minimal);
    expect(Object.keys(alarms).sort()).toEqual(['FunctionErrors1', 'FunctionThrottles1', 'LatencyP99', 'ServerErrorRate']);
    expect(Object.keys(minimal.monitoring.alarms).sort()).toEqual(Object.keys(alarms).sort());
  });

  test('routeAlarms: errors and throttles per route, hit ratio per cached read, and no sums', () => {
    expect(Object.keys(alarmsOf(templates.redis)).filter((id) => !/^(DataCache|DataPurge)/.test(id)).sort()).toEqual(
      [
        'ServerErrorRate',
        'LatencyP99',
        ...ROUTE_IDS.flatMap((id) => [`${id}Errors`, `${id}Throttles`]),
        'GetItemsDataCacheHitRatio',
        'GetItemsByIdDataCacheHitRatio',
      ].sort(),
    );
  });

  test("a route's alarms option: that route has its own alarms, the others stay in the sums", () => {
    const alarms = alarmsOf(templates.memcached);
    expect(Object.keys(alarms).filter((id) => id.startsWith('GetItems'))).toEqual(
      expect.arrayContaining(['GetItemsErrors', 'GetItemsThrottles', 'GetItemsDataCacheHitRatio']),
    );
    expect(Object.keys(alarms).filter((id) => id.startsWith('GetItems')).sort()).toEqual(['GetItemsDataCacheHitRatio', 'GetItemsErrors', 'GetItemsThrottles']);
    expect(alarms.FunctionErrors1.Metrics.filter((m: any) => m.MetricStat)).toHaveLength(ROUTES.length - 1);
    expect(JSON.stringify(alarms.FunctionErrors1.Metrics)).not.toContain(memcached.stack.getLogicalId(memcached.api.functions['GET /items'].node.defaultChild as any));
  });

  test('missing data never alarms, and every alarm is M of N over the default period', () => {
    for (const props of Object.values(alarmsOf(templates.minimal))) {
      expect(props).toMatchObject({ TreatMissingData: 'notBreaching', EvaluationPeriods: 3, DatapointsToAlarm: 2 });
      expect(props.AlarmActions).toBeUndefined(); // no topic given
      const periods = props.Metrics ? props.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Period) : [props.Period];
      expect(new Set(periods)).toEqual(new Set([300]));
    }
  });

  test('API 5xx rate: math over the stage 5XXError and Count, judged only with enough requests', () => {
    const alarm = alarmsOf(templates.minimal).ServerErrorRate;
    expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 1 });
    const expression = alarm.Metrics.find((m: any) => m.Expression);
    expect(expression).toMatchObject({ Expression: 'IF(requests >= 20, 100 * errors / requests, 0)', ReturnData: true });
    // Each id reads the metric it is named for: 5 errors in 200 requests is 2.5 %, not 4000 %.
    expect(evaluateAlarm(alarm, { '5XXError': 5, Count: 200 })).toBeCloseTo(2.5);
    expect(evaluateAlarm(alarm, { '5XXError': 5, Count: 19 })).toBe(0); // too few requests to judge
    const stat = (name: string) => alarm.Metrics.find((m: any) => m.MetricStat?.Metric.MetricName === name).MetricStat;
    for (const name of ['5XXError', 'Count']) {
      expect(stat(name)).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway' }, Period: 300, Stat: 'Sum' });
      expect(stat(name).Metric.Dimensions).toEqual([
        { Name: 'ApiName', Value: 'catalog-monitoringminimal' },
        { Name: 'Stage', Value: { Ref: expect.stringMatching(/^ApiDeploymentStagev1/) } },
      ]);
    }
  });

  test('p99 latency of the stage above 2 s', () => {
    const alarm = alarmsOf(templates.minimal).LatencyP99;
    expect(alarm).toMatchObject({ Threshold: 2000, ComparisonOperator: 'GreaterThanThreshold' });
    expect(metricOf(alarm)).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Latency', Stat: 'p99', Period: 300 });
  });

  test('Lambda errors and throttles: one sum over the route functions, each id bound to a distinct function', () => {
    const alarms = alarmsOf(templates.minimal);
    const functions = templates.minimal.findResources('AWS::Lambda::Function');
    const fnIdOf = (routeKey: string) => Object.keys(functions).find((id) => (functions[id] as any).Properties.Environment?.Variables?.ROUTE_KEY === routeKey);
    for (const [alarmId, metric, prefix] of [['FunctionErrors1', 'Errors', 'e'], ['FunctionThrottles1', 'Throttles', 't']]) {
      const alarm = alarms[alarmId];
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      const stats = alarm.Metrics.filter((m: any) => m.MetricStat);
      expect(alarm.Metrics.find((m: any) => m.Expression)).toMatchObject({ Expression: `SUM([${stats.map((m: any) => m.Id).join(', ')}])`, ReturnData: true });
      // Every route function once, each under its own id (an id read twice would hide another function).
      expect(stats.map((m: any) => m.Id)).toEqual(ROUTES.map((_, i) => `${prefix}${i}`));
      expect(stats.map((m: any) => m.MetricStat)).toEqual(
        ROUTES.map((routeKey) => ({ Metric: { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnIdOf(routeKey) } }] }, Period: 300, Stat: 'Sum' })),
      );
      expect(alarm.AlarmDescription).toContain(ROUTES.join(', '));
    }
  });

  test('routeAlarms: Lambda errors and throttles of each route function on their own', () => {
    const alarms = alarmsOf(templates.redis);
    const functions = templates.redis.findResources('AWS::Lambda::Function');
    for (const [i, routeKey] of ROUTES.entries()) {
      const fnId = Object.keys(functions).find((id) => (functions[id] as any).Properties.Environment?.Variables?.ROUTE_KEY === routeKey);
      expect(fnId).toBeDefined();
      for (const metric of ['Errors', 'Throttles']) {
        const alarm = alarms[`${ROUTE_IDS[i]}${metric}`];
        expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
        expect(metricOf(alarm)).toEqual({ Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }], Stat: 'Sum', Period: 60 });
      }
    }
    expect(alarms.FunctionErrors1).toBeUndefined();
  });

  test('routeAlarms: data-cache hit ratio of each cached read from the EMF counters, held at 100 without enough lookups', () => {
    const alarm = alarmsOf(templates.redis).GetItemsByIdDataCacheHitRatio;
    expect(alarm).toMatchObject({ ComparisonOperator: 'LessThanThreshold', Threshold: 70, TreatMissingData: 'notBreaching' });
    const expression = alarm.Metrics.find((m: any) => m.Expression).Expression;
    expect(expression).toMatch(/^IF\(\(h\d \+ s\d \+ m\d \+ e\d \+ b\d\) >= 20, 100 \* \(h\d \+ s\d\) \/ \(h\d \+ s\d \+ m\d \+ e\d \+ b\d\), 100\)$/);
    const counters = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat);
    expect(counters.map((c: any) => c.Metric.MetricName).sort()).toEqual(['DataCacheBypass', 'DataCacheError', 'DataCacheHit', 'DataCacheMiss', 'DataCacheStale']);
    for (const c of counters) {
      expect(c).toMatchObject({ Stat: 'Sum', Period: 60 });
      expect(c.Metric.Namespace).toBe('CacheableApi');
      expect(c.Metric.Dimensions).toEqual([
        { Name: 'Route', Value: 'GET /items/{id}' },
        { Name: 'Service', Value: 'MonitoringRedis' },
      ]);
    }
    // Each id is bound to its counter: hits and stale answers count as served from the cache;
    // misses, errors and bypasses do not. One distinct value per counter, so any swap shows.
    const counts = { DataCacheHit: 60, DataCacheStale: 10, DataCacheMiss: 20, DataCacheError: 6, DataCacheBypass: 4 };
    expect(evaluateAlarm(alarm, counts)).toBeCloseTo(70);
    expect(evaluateAlarm(alarm, { ...counts, DataCacheHit: 0, DataCacheStale: 0 })).toBe(0);
    expect(evaluateAlarm(alarm, { DataCacheHit: 0, DataCacheStale: 0, DataCacheMiss: 19, DataCacheError: 0, DataCacheBypass: 0 })).toBe(100); // < 20 lookups
    expect(evaluateAlarm(alarm, { DataCacheHit: 0, DataCacheStale: 0, DataCacheMiss: 0, DataCacheError: 15, DataCacheBypass: 5 })).toBe(0); // unreachable cache
    // Writes carry data-cache settings only to invalidate: no hit ratio for them.
    expect(alarmsOf(templates.redis).PutItemsByIdDataCacheHitRatio).toBeUndefined();
    // Without alarms of their own, the cached reads have their hit ratio on the dashboard only.
    expect(alarmsOf(templates.minimal).GetItemsByIdDataCacheHitRatio).toBeUndefined();
  });

  test('a given topic receives alarm and OK notifications of every alarm', () => {
    const alarms = Object.values(alarmsOf(templates.redis));
    expect(alarms.length).toBeGreaterThan(10);
    for (const props of alarms) {
      expect(props.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
      expect(props.OKActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
    }
  });

  test('thresholds, period and M of N follow the props', () => {
    const alarms = alarmsOf(templates.redis);
    expect(alarms.ServerErrorRate).toMatchObject({ Threshold: 2.5, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    expect(alarms.ServerErrorRate.Metrics.find((m: any) => m.MetricStat).MetricStat.Period).toBe(60);
    expect(alarms.LatencyP99.Threshold).toBe(800);
    expect(metricOf(alarms.LatencyP99).Period).toBe(60);
    expect(alarms.GetItemsDataCacheHitRatio.Threshold).toBe(70);
  });

  test('node-based Valkey/Redis: engine CPU and memory alarms for each member of the replication group', () => {
    const alarms = alarmsOf(templates.redis);
    for (const n of [1, 2, 3]) {
      const dims = [{ Name: 'CacheClusterId', Value: `catalog-rg-00${n}` }];
      expect(alarms[`DataCacheEngineCpu${n}`].Threshold).toBe(60);
      expect(metricOf(alarms[`DataCacheEngineCpu${n}`])).toMatchObject({ Namespace: 'AWS/ElastiCache', MetricName: 'EngineCPUUtilization', Dimensions: dims });
      expect(alarms[`DataCacheMemory${n}`].Threshold).toBe(90);
      expect(metricOf(alarms[`DataCacheMemory${n}`])).toMatchObject({ MetricName: 'DatabaseMemoryUsagePercentage', Dimensions: dims });
    }
    expect(alarms.DataCacheEngineCpu4).toBeUndefined();
  });

  test('serverless cache (a DataCache passed as it is): throttled commands by clusterId', () => {
    const alarm = alarmsOf(templates.full).DataCacheThrottled;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(metricOf(alarm)).toMatchObject({
      Namespace: 'AWS/ElastiCache',
      MetricName: 'ThrottledCmds',
      Dimensions: [{ Name: 'clusterId', Value: full.dataCache.cacheName }],
      Stat: 'Sum',
    });
  });

  test('Memcached: CPU of the cluster', () => {
    const alarm = alarmsOf(templates.memcached).DataCacheCpu;
    expect(alarm.Threshold).toBe(80);
    expect(metricOf(alarm)).toMatchObject({ MetricName: 'CPUUtilization', Dimensions: [{ Name: 'CacheClusterId', Value: 'catalog-mc' }] });
  });

  test('CloudFront 5xx rate is alarmed only where its metrics are: a us-east-1 stack', () => {
    const alarm = alarmsOf(templates.full).EdgeServerErrorRate;
    expect(alarm.Threshold).toBe(5);
    expect(metricOf(alarm)).toMatchObject({
      Namespace: 'AWS/CloudFront',
      MetricName: '5xxErrorRate',
      Dimensions: [{ Name: 'DistributionId', Value: { Ref: expect.stringMatching(/^ApiEdgeDistribution/) } }, { Name: 'Region', Value: 'Global' }],
    });
    expect(alarmsOf(templates.redis).EdgeServerErrorRate).toBeUndefined(); // eu-west-1
  });

  test('stream functions: iterator age and errors', () => {
    const alarms = alarmsOf(templates.redis);
    expect(alarms.DataPurgeIteratorAge.Threshold).toBe(300_000);
    const age = metricOf(alarms.DataPurgeIteratorAge);
    expect(age).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'IteratorAge', Stat: 'Maximum', Dimensions: [{ Name: 'FunctionName' }] });
    // An imported function's name is cut out of its ARN by CloudFormation.
    expect(JSON.stringify(age.Dimensions)).toContain(':function:catalog-data-purge');
    expect(metricOf(alarms.DataPurgeErrors)).toMatchObject({ MetricName: 'Errors', Stat: 'Sum' });
    // Added after construction: alarms, status widget and graphs include it.
    expect(JSON.stringify(metricOf(alarmsOf(templates.full).EdgePurgeIteratorAge).Dimensions)).toContain(':function:catalog-edge-purge');
    const body = dashboardBody(templates.full);
    expect(widgetTitles(body)).toEqual(expect.arrayContaining(['Stream iterator age (ms)', 'Stream function errors']));
    expect(widgetByTitle(body, 'Alarms').alarms).toHaveLength(Object.keys(alarmsOf(templates.full)).length);
    expect(JSON.stringify(widgetByTitle(body, 'Alarms').alarms)).toContain('MonitoringEdgePurgeIteratorAgeAlarm');
  });
});

describe('request metrics wiring', () => {
  test('every route function gets the namespace and Service the dashboard and alarms query', () => {
    for (const routeKey of ROUTES) {
      templates.minimal.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ ROUTE_KEY: routeKey, METRICS_NAMESPACE: 'CacheableApi', METRICS_SERVICE: 'MonitoringMinimal' }) },
      });
    }
  });

  test('serviceName and metricsNamespace are configurable, and the alarms follow', () => {
    for (const routeKey of ROUTES) {
      templates.memcached.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ ROUTE_KEY: routeKey, METRICS_NAMESPACE: 'Shop/Api', METRICS_SERVICE: 'catalog' }) },
      });
    }
    const counter = alarmsOf(templates.memcached).GetItemsDataCacheHitRatio.Metrics.find((m: any) => m.MetricStat).MetricStat.Metric;
    expect(counter.Namespace).toBe('Shop/Api');
    expect(counter.Dimensions).toContainEqual({ Name: 'Service', Value: 'catalog' });
  });
});

describe('dashboard', () => {
  test('API, functions and request metrics sections, then the alarm status', () => {
    const body = dashboardBody(templates.minimal);
    expect(widgetTitles(body)).toEqual([
      '(text)',
      'Alarms',
      'API requests',
      'API latency (ms)',
      'API errors',
      'API 5xx rate (%)',
      'Function duration p99 (ms)',
      'Function errors',
      'Function throttles',
      'Function concurrency (max)',
      'Data-cache hit ratio (%)',
      'Origin load latency (ms)',
      '5xx answers by route',
    ]);
    const latency = widgetByTitle(body, 'API latency (ms)');
    expect(latency.metrics.map((m: any) => [m[1], m[m.length - 1].stat])).toEqual([
      ['Latency', 'p50'],
      ['Latency', 'p99'],
      ['IntegrationLatency', 'p99'],
    ]);
    for (const title of ['Function duration p99 (ms)', 'Function errors', 'Function throttles', 'Function concurrency (max)']) {
      expect(widgetByTitle(body, title).metrics.map((m: any) => m[m.length - 1].label)).toEqual(ROUTES);
    }
    const ratio = widgetByTitle(body, 'Data-cache hit ratio (%)');
    const expressions = ratio.metrics.filter((m: any) => m[0].expression).map((m: any) => m[0].label);
    expect(expressions).toEqual(['GET /items', 'GET /items/{id}']);
    expect(ratio.yAxis.left).toMatchObject({ min: 0, max: 100 });
    expect(widgetByTitle(body, 'Alarms').alarms).toHaveLength(4);
  });

  test('serverless cache and CloudFront with additional metrics (us-east-1, Region Global)', () => {
    const body = dashboardBody(templates.full);
    expect(widgetTitles(body)).toEqual(expect.arrayContaining([
      'Cache hit rate (%)', 'ECPUs consumed', 'Throttled commands', 'Cache read latency (µs)',
      'Edge requests', 'Edge error rates (%)', 'Edge cache hit rate (%)', 'Edge origin latency (ms)',
    ]));
    const hitRate = widgetByTitle(body, 'Cache hit rate (%)').metrics[0];
    expect(hitRate.slice(0, 4)).toEqual(['AWS/ElastiCache', 'CacheHitRate', 'clusterId', full.dataCache.cacheName]);
    const edge = widgetByTitle(body, 'Edge cache hit rate (%)').metrics[0];
    expect(edge.slice(0, 6)).toEqual(['AWS/CloudFront', 'CacheHitRate', 'DistributionId', expect.stringMatching(/^\$\{ApiEdgeDistribution/), 'Region', 'Global']);
    expect(edge[6]).toMatchObject({ region: 'us-east-1' });
    templates.full.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'catalog-full' });
  });

  test('without the subscription the dashboard says how to get the edge hit rate, and subscribes nothing', () => {
    const body = dashboardBody(templates.redis);
    expect(widgetTitles(body)).not.toContain('Edge cache hit rate (%)');
    expect(JSON.stringify(body)).toContain('cloudFrontAdditionalMetrics: true');
    const edgeRequests = widgetByTitle(body, 'Edge requests').metrics[0];
    expect(edgeRequests.slice(0, 6)).toEqual(['AWS/CloudFront', 'Requests', 'DistributionId', 'E2EXAMPLE', 'Region', 'Global']);
    expect(edgeRequests[edgeRequests.length - 1]).toMatchObject({ region: 'us-east-1' });
    templates.redis.resourceCountIs('AWS::CloudFront::MonitoringSubscription', 0);
  });

  test('node-based cache: engine CPU, memory, evictions and hit rate per member', () => {
    const body = dashboardBody(templates.redis);
    const cpu = widgetByTitle(body, 'Cache engine CPU (%)').metrics;
    expect(cpu.map((m: any) => m.slice(0, 4))).toEqual([1, 2, 3].map((n) => ['AWS/ElastiCache', 'EngineCPUUtilization', 'CacheClusterId', `catalog-rg-00${n}`]));
    expect(widgetTitles(body)).toEqual(expect.arrayContaining(['Cache memory used (%)', 'Cache evictions', 'Cache hit rate (%)', 'Stream iterator age (ms)']));
  });
});

describe('CloudFront additional metrics and the alarm topic', () => {
  test('the additional-metrics subscription is created only when asked for, on the API\'s own distribution', () => {
    templates.full.hasResourceProperties('AWS::CloudFront::MonitoringSubscription', {
      DistributionId: { Ref: Match.stringLikeRegexp('^ApiEdgeDistribution') },
      MonitoringSubscription: { RealtimeMetricsSubscriptionConfig: { RealtimeMetricsSubscriptionStatus: 'Enabled' } },
    });
    templates.minimal.resourceCountIs('AWS::CloudFront::MonitoringSubscription', 0);
    expect(API_MONITORING_DEFAULTS.cloudFrontAdditionalMetrics).toBe(false);
  });

  test('a created topic is KMS-encrypted with a rotated key CloudWatch may use, refuses plain HTTP, and admits only this account\'s alarms', () => {
    const t = templates.full;
    const keys = monitoringResources(t, 'AWS::KMS::Key');
    expect(Object.keys(keys)).toHaveLength(1);
    const [keyId, key] = Object.entries(keys)[0];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow' }),
    );
    const topics = monitoringResources(t, 'AWS::SNS::Topic');
    expect(Object.values(topics)).toEqual([expect.objectContaining({ Properties: expect.objectContaining({ KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } }) })]);
    const policies = Object.values(monitoringResources(t, 'AWS::SNS::TopicPolicy'));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:aws:cloudwatch:us-east-1:', { Ref: 'AWS::AccountId' }, ':alarm:*']] } },
        },
      }),
    );
    const topicId = Object.keys(topics)[0];
    for (const props of Object.values(alarmsOf(t))) {
      expect(props.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(props.OKActions).toEqual([{ Ref: topicId }]);
    }
    expect(full.monitoring.alarmTopic).toBeDefined();
  });
});

describe('props are checked', () => {
  // One throwaway stack: each rejected ApiMonitoring throws before building anything of note.
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bad');
  const api = new CacheableApi(stack, 'Api', {
    authorization: ApiAuthorization.iam(),
    routes: { 'GET /health': { entry: entry('health.ts') } },
  });
  let n = 0;
  test.each<[string, Omit<ApiMonitoringProps, 'api'>, RegExp]>([
    ['both topic props', { createAlarmTopic: true, alarmTopic: {} as sns.ITopic }, /mutually exclusive/],
    ['additional metrics without a distribution', { cloudFrontAdditionalMetrics: true }, /needs distributionId/],
    ['M greater than N', { evaluationPeriods: 2, datapointsToAlarm: 3 }, /datapointsToAlarm must be an integer between 1 and 2/],
    ['an AWS/ namespace', { metricsNamespace: 'AWS/Lambda' }, /metricsNamespace/],
    ['a period CloudWatch does not offer', { period: Duration.seconds(90) }, /period must be/],
    ['a ratio above 100 %', { dataCacheHitRatioPercent: 120 }, /dataCacheHitRatioPercent must be between 0 and 100/],
    ['a latency beyond the API Gateway timeout', { latencyP99: Duration.seconds(30) }, /latencyP99/],
    ['a bad dashboard name', { dashboardName: 'my dashboard' }, /dashboardName/],
    ['a node count of 0', { dataCache: { engineName: 'redis', cacheName: 'rg', nodeCount: 0 } }, /dataCache.nodeCount/],
  ])('rejects %s', (_name, props, message) => {
    expect(() => new ApiMonitoring(stack, `Monitoring${n++}`, { api, ...props })).toThrow(message);
  });

  test('a valid set passes (the cases above fail for their own reason only)', () => {
    expect(() => new ApiMonitoring(stack, 'Valid', { api, evaluationPeriods: 2, datapointsToAlarm: 2, period: Duration.seconds(60) })).not.toThrow();
  });
});

test('snapshot of the monitoring resources (minimal variant)', () => {
  const resources = templates.minimal.toJSON().Resources as Record<string, unknown>;
  const mine = Object.fromEntries(Object.entries(resources).filter(([id]) => id.startsWith('Monitoring')));
  expect(mine).toMatchSnapshot();
});
