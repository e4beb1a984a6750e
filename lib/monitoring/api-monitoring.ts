import { ArnFormat, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  API_MONITORING_DEFAULTS,
  CLOUDFRONT_METRICS_REGION,
  METRICS_ENV,
  REQUEST_DIMENSIONS,
  REQUEST_METRICS,
} from './api-monitoring-defaults';
import type { CacheableApi } from '../api/cacheable-api';
import { withDefaults } from '../shared/defaults';
import { checkRange, ParsedRoute } from '../api/route-table';

/**
 * The data cache to watch. `DataCache` (lib/data-cache/data-cache.ts) has this shape, so it can be passed
 * as it is; so can any object naming an ElastiCache cache.
 */
export interface MonitoredDataCache {
  /**
   * Engine as the runtime names it: `valkey-serverless`, `redis` (a node-based Valkey or Redis OSS
   * replication group) or `memcached`.
   */
  readonly engineName: string;
  /** Serverless cache name, replication group id or Memcached cluster id. */
  readonly cacheName: string;
  /**
   * Whether it is an ElastiCache Serverless cache (metrics by `clusterId`, no nodes).
   * @default - true when `engineName` ends with `-serverless`
   */
  readonly serverless?: boolean;
  /**
   * Nodes of a node-based cache: the replication group's `numCacheClusters` (members
   * `<id>-001` ...) or the Memcached cluster's `numCacheNodes`. Ignored for serverless caches.
   * @default 2 (DataCache's default)
   */
  readonly nodeCount?: number;
}

/** Properties of ApiMonitoring. Thresholds are explained in lib/monitoring/README.md. */
export interface ApiMonitoringProps {
  /** The API to watch: its stage, and the function and route settings of every route. */
  readonly api: CacheableApi;
  /**
   * Value of the `Service` dimension of the request metrics (set on every route function).
   * @default - the stack name
   */
  readonly serviceName?: string;
  /**
   * CloudWatch namespace of the request metrics (set on every route function).
   * @default 'CacheableApi'
   */
  readonly metricsNamespace?: string;
  /**
   * Name of the CloudWatch dashboard.
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * The ElastiCache cache behind the data cache: its engine metrics on the dashboard, and alarms
   * on throttling (serverless), engine CPU and memory (node-based).
   * @default - no ElastiCache section
   */
  readonly dataCache?: MonitoredDataCache;
  /**
   * Id of the CloudFront distribution in front of the API: requests and error rates on the
   * dashboard (CloudFront publishes them in us-east-1 only, so the alarm on them is created only
   * when this stack is in us-east-1).
   * @default - the API's own distribution (`api.edge`) when a route is edge-cached, else no CloudFront section
   */
  readonly distributionId?: string;
  /**
   * Subscribe the distribution to CloudFront's additional metrics (cache hit rate, origin latency,
   * error rates by status) with an `AWS::CloudFront::MonitoringSubscription`. They are charged
   * per metric, which is why this is off by default.
   * @default false
   */
  readonly cloudFrontAdditionalMetrics?: boolean;
  /**
   * Functions fed by a stream (e.g. CacheSync's purge functions): errors and iterator age on the
   * dashboard, and alarms on both. Functions created after this construct can be added with
   * `addStreamFunctions`.
   * @default - none
   */
  readonly streamFunctions?: lambda.IFunction[];
  /**
   * Topic every alarm notifies (alarm and OK). Mutually exclusive with `createAlarmTopic`.
   * @default - no notification unless `createAlarmTopic`
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Create a topic for the alarms, encrypted with a customer-managed KMS key (rotation on) that
   * CloudWatch may use, and refusing non-TLS publishers.
   * @default false
   */
  readonly createAlarmTopic?: boolean;
  /**
   * Period of every alarm and dashboard graph.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
  /**
   * Periods an alarm looks back over.
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching periods among `evaluationPeriods` that set an alarm off (M of N: one noisy period
   * alone does not).
   * @default 2
   */
  readonly datapointsToAlarm?: number;
  /**
   * API 5xx rate, in percent of requests, above which the API alarm goes off.
   * @default 1
   */
  readonly serverErrorRatePercent?: number;
  /**
   * Requests in a period below which the 5xx rate is not judged (two requests and one failure is
   * not a 50% outage).
   * @default 20
   */
  readonly minRequestsForErrorRate?: number;
  /**
   * API p99 latency above which the latency alarm goes off.
   * @default Duration.seconds(2)
   */
  readonly latencyP99?: Duration;
  /**
   * Lambda errors of a route function in a period (timeouts, crashes, init failures: the handler
   * wrapper already turns exceptions into 500s) from which its alarm goes off.
   * @default 1
   */
  readonly functionErrors?: number;
  /**
   * Throttled invocations of a route function in a period from which its alarm goes off.
   * @default 1
   */
  readonly functionThrottles?: number;
  /**
   * Data-cache hit ratio of a cached route, in percent, below which its alarm goes off.
   * @default 50
   */
  readonly dataCacheHitRatioPercent?: number;
  /**
   * Data-cache lookups of a route in a period below which its hit ratio is not judged.
   * @default 20
   */
  readonly minLookupsForHitRatio?: number;
  /**
   * Engine CPU (node-based Valkey/Redis: EngineCPUUtilization; Memcached: CPUUtilization), in
   * percent, above which a node's alarm goes off.
   * @default 80
   */
  readonly cacheCpuPercent?: number;
  /**
   * Valkey/Redis DatabaseMemoryUsagePercentage above which a node's alarm goes off.
   * @default 90
   */
  readonly cacheMemoryPercent?: number;
  /**
   * Throttled commands of a serverless cache in a period from which its alarm goes off.
   * @default 1
   */
  readonly cacheThrottledCommands?: number;
  /**
   * CloudFront 5xx error rate, in percent, above which the edge alarm goes off (us-east-1 stacks).
   * @default 5
   */
  readonly cloudFrontErrorRatePercent?: number;
  /**
   * Stream iterator age above which a stream function's alarm goes off: how far cache purges lag
   * behind the table.
   * @default Duration.minutes(5)
   */
  readonly iteratorAge?: Duration;
}

/** ApiMonitoring's props without `api`: what a construct that owns the API passes through. */
export type ApiMonitoringOptions = Omit<ApiMonitoringProps, 'api'>;

type Settings = typeof API_MONITORING_DEFAULTS & ApiMonitoringProps;

/**
 * A CloudWatch dashboard and alarms for a CacheableApi: API Gateway traffic, latency and errors;
 * each route's function; each cached route's data-cache hit ratio and origin latency from the
 * request metrics the handler wrapper writes (EMF); optionally the ElastiCache cache, the
 * CloudFront distribution and the stream functions that keep caches in sync. Missing data never
 * sets an alarm off: no traffic is not an outage. See lib/monitoring/README.md.
 */
export class ApiMonitoring extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm, by construct id. */
  public readonly alarms: Record<string, cloudwatch.Alarm> = {};
  /** The same alarms in creation order, read by the status widget at synth time. */
  private readonly alarmList: cloudwatch.Alarm[] = [];
  /** The topic alarms notify, when one was given or created. */
  public readonly alarmTopic?: sns.ITopic;
  /** The CloudFront additional-metrics subscription, when `cloudFrontAdditionalMetrics` is on. */
  public readonly monitoringSubscription?: cloudfront.CfnMonitoringSubscription;

  private readonly settings: Settings;
  private readonly api: CacheableApi;
  private readonly namespace: string;
  private readonly service: string;

  constructor(scope: Construct, id: string, props: ApiMonitoringProps) {
    super(scope, id);
    if (!props?.api) throw new Error('api is required: the CacheableApi to monitor');
    const distributionId = props.distributionId ?? props.api.edge?.distribution.distributionId;
    const settings = withDefaults(API_MONITORING_DEFAULTS, { ...props, distributionId });
    validate(settings);
    this.settings = settings;
    this.api = props.api;
    this.namespace = settings.metricsNamespace;
    this.service = settings.serviceName ?? Stack.of(this.api).stackName;

    // The runtime writes request metrics only where these are set (lambda/runtime/metrics).
    for (const route of this.api.routes) {
      const fn = this.functionOf(route);
      fn.addEnvironment(METRICS_ENV.namespace, this.namespace);
      fn.addEnvironment(METRICS_ENV.service, this.service);
    }

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else if (settings.createAlarmTopic) {
      this.alarmTopic = this.newAlarmTopic();
    }

    if (settings.cloudFrontAdditionalMetrics) {
      this.monitoringSubscription = new cloudfront.CfnMonitoringSubscription(this, 'EdgeMonitoringSubscription', {
        distributionId: distributionId!,
        monitoringSubscription: { realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: 'Enabled' } },
      });
    }

    const rows: cloudwatch.IWidget[][] = [
      [new cloudwatch.TextWidget({ markdown: `# ${this.api.restApi.restApiName} (stage ${this.api.stage.stageName})`, width: 24, height: 1 })],
      this.apiSection(),
      this.functionSection(),
      this.requestMetricsSection(),
    ];
    if (props.dataCache) rows.push(this.dataCacheSection(props.dataCache));
    if (distributionId) rows.push(this.edgeSection(distributionId));
    // The status widget reads the alarm list when the dashboard is synthesized, so alarms added
    // later (addStreamFunctions) are listed too; it goes first, under the title.
    const expected = this.alarmList.length + 2 * (props.streamFunctions?.length ?? 0);
    rows.splice(1, 0, [
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: this.alarmList,
        width: 24,
        height: Math.max(3, Math.ceil(expected / 4) + 2),
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    ]);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
      widgets: rows,
    });
    if (props.streamFunctions && props.streamFunctions.length > 0) this.addStreamFunctions(props.streamFunctions);
  }

  /**
   * Watches functions fed by a stream (e.g. CacheSync's purge functions, which a stack often
   * creates after the API): iterator age and errors on the dashboard, an alarm on each.
   */
  public addStreamFunctions(functions: lambda.IFunction[]): void {
    if (functions.length === 0) return;
    this.dashboard.addWidgets(...this.streamSection(functions));
  }

  // ----------------------------------------------------------------------------------------
  // API Gateway
  // ----------------------------------------------------------------------------------------

  private apiSection(): cloudwatch.IWidget[] {
    const stage = this.api.stage;
    const period = this.settings.period;
    const requests = stage.metricCount({ statistic: 'Sum', period, label: 'Requests' });
    const errors5xx = stage.metricServerError({ statistic: 'Sum', period, label: '5xx' });
    const errors4xx = stage.metricClientError({ statistic: 'Sum', period, label: '4xx' });
    const p50 = stage.metricLatency({ statistic: 'p50', period, label: 'Latency p50' });
    const p99 = stage.metricLatency({ statistic: 'p99', period, label: 'Latency p99' });
    const integrationP99 = stage.metricIntegrationLatency({ statistic: 'p99', period, label: 'Integration latency p99' });

    const min = this.settings.minRequestsForErrorRate;
    const errorRate = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${min}, 100 * errors / requests, 0)`,
      usingMetrics: { requests, errors: errors5xx },
      period,
      label: '5xx rate (%)',
    });
    this.addAlarm('ServerErrorRate', errorRate, {
      threshold: this.settings.serverErrorRatePercent,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `API 5xx responses above ${this.settings.serverErrorRatePercent}% of requests (periods with at least ${min} requests)`,
    });
    this.addAlarm('LatencyP99', p99, {
      threshold: this.settings.latencyP99.toMilliseconds(),
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `API p99 latency above ${this.settings.latencyP99.toMilliseconds()} ms`,
    });

    return [
      graph('API requests', [requests], 6),
      graph('API latency (ms)', [p50, p99, integrationP99], 6),
      graph('API errors', [errors4xx, errors5xx], 6),
      graph('API 5xx rate (%)', [errorRate], 6, [this.alarms.ServerErrorRate]),
    ];
  }

  // ----------------------------------------------------------------------------------------
  // Route functions
  // ----------------------------------------------------------------------------------------

  private functionSection(): cloudwatch.IWidget[] {
    const period = this.settings.period;
    const duration: cloudwatch.IMetric[] = [];
    const errors: cloudwatch.IMetric[] = [];
    const throttles: cloudwatch.IMetric[] = [];
    const concurrency: cloudwatch.IMetric[] = [];
    for (const route of this.api.routes) {
      const fn = this.functionOf(route);
      const label = route.key;
      duration.push(fn.metricDuration({ statistic: 'p99', period, label }));
      const fnErrors = fn.metricErrors({ statistic: 'Sum', period, label });
      const fnThrottles = fn.metricThrottles({ statistic: 'Sum', period, label });
      errors.push(fnErrors);
      throttles.push(fnThrottles);
      concurrency.push(fn.metric('ConcurrentExecutions', { statistic: 'Maximum', period, label }));
      this.addAlarm(`${route.id}Errors`, fnErrors, {
        threshold: this.settings.functionErrors,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description: `${route.key}: ${this.settings.functionErrors}+ Lambda errors (timeouts, crashes, init failures) per period`,
      });
      this.addAlarm(`${route.id}Throttles`, fnThrottles, {
        threshold: this.settings.functionThrottles,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description: `${route.key}: ${this.settings.functionThrottles}+ throttled invocations per period (concurrency exhausted)`,
      });
    }
    return [
      graph('Function duration p99 (ms)', duration, 6),
      graph('Function errors', errors, 6),
      graph('Function throttles', throttles, 6),
      graph('Function concurrency (max)', concurrency, 6),
    ];
  }

  // ----------------------------------------------------------------------------------------
  // Request metrics written by the handler wrapper (EMF)
  // ----------------------------------------------------------------------------------------

  private requestMetric(route: ParsedRoute, name: string, statistic: string, label?: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { [REQUEST_DIMENSIONS.service]: this.service, [REQUEST_DIMENSIONS.route]: route.key },
      statistic,
      period: this.settings.period,
      label: label ?? route.key,
    });
  }

  /**
   * Hit ratio of a cached route: lookups answered from the cache (fresh or stale) over all
   * lookups (hit, stale, miss, error, bypass), so that an unreachable cache, whose lookups end
   * in `error` or `bypass`, drives the ratio down instead of out of the graph.
   */
  private hitRatio(route: ParsedRoute, index: number): cloudwatch.MathExpression {
    const ids = ['h', 's', 'm', 'e', 'b'].map((letter) => `${letter}${index}`);
    const [h, s, m, e, b] = ids;
    const names = [
      REQUEST_METRICS.dataCacheHit,
      REQUEST_METRICS.dataCacheStale,
      REQUEST_METRICS.dataCacheMiss,
      REQUEST_METRICS.dataCacheError,
      REQUEST_METRICS.dataCacheBypass,
    ];
    const usingMetrics = Object.fromEntries(ids.map((metricId, i) => [metricId, this.requestMetric(route, names[i], 'Sum')]));
    const lookups = `(${h} + ${s} + ${m} + ${e} + ${b})`;
    return new cloudwatch.MathExpression({
      expression: `IF(${lookups} >= ${this.settings.minLookupsForHitRatio}, 100 * (${h} + ${s}) / ${lookups}, 100)`,
      usingMetrics,
      period: this.settings.period,
      label: route.key,
    });
  }

  private requestMetricsSection(): cloudwatch.IWidget[] {
    // Writes carry data-cache settings to invalidate what reads cached; only reads look up.
    const cached = this.api.routes.filter((r) => r.cache.data && r.method === 'GET');
    const ratios = cached.map((route, i) => {
      const ratio = this.hitRatio(route, i);
      this.addAlarm(`${route.id}DataCacheHitRatio`, ratio, {
        threshold: this.settings.dataCacheHitRatioPercent,
        comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        description: `${route.key}: data-cache hit ratio below ${this.settings.dataCacheHitRatioPercent}% (periods with at least ${this.settings.minLookupsForHitRatio} lookups)`,
      });
      return ratio;
    });
    const originRoutes = cached.length > 0 ? cached : this.api.routes;
    const origin = originRoutes.flatMap((route) => [
      this.requestMetric(route, REQUEST_METRICS.originLatency, 'p50', `${route.key} p50`),
      this.requestMetric(route, REQUEST_METRICS.originLatency, 'p99', `${route.key} p99`),
    ]);
    const faults = this.api.routes.map((route) => this.requestMetric(route, REQUEST_METRICS.faults, 'Sum'));
    const widgets: cloudwatch.IWidget[] = [];
    if (ratios.length > 0) widgets.push(graph('Data-cache hit ratio (%)', ratios, 8, [], { min: 0, max: 100 }));
    widgets.push(graph('Origin load latency (ms)', origin, ratios.length > 0 ? 8 : 12));
    widgets.push(graph('5xx answers by route', faults, ratios.length > 0 ? 8 : 12));
    return widgets;
  }

  // ----------------------------------------------------------------------------------------
  // ElastiCache
  // ----------------------------------------------------------------------------------------

  private dataCacheSection(cache: MonitoredDataCache): cloudwatch.IWidget[] {
    const period = this.settings.period;
    const metric = (name: string, dimensionsMap: Record<string, string>, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName: name, dimensionsMap, statistic, period, label });
    const serverless = cache.serverless ?? cache.engineName.endsWith('-serverless');

    if (serverless) {
      const dims = { clusterId: cache.cacheName };
      const throttled = metric('ThrottledCmds', dims, 'Sum', 'Throttled commands');
      this.addAlarm('DataCacheThrottled', throttled, {
        threshold: this.settings.cacheThrottledCommands,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description: `Data cache: ${this.settings.cacheThrottledCommands}+ throttled commands per period (load grew faster than the serverless cache scales)`,
      });
      return [
        graph('Cache hit rate (%)', [metric('CacheHitRate', dims, 'Average', 'CacheHitRate')], 6, [], { min: 0, max: 100 }),
        graph('ECPUs consumed', [metric('ElastiCacheProcessingUnits', dims, 'Sum', 'ECPUs')], 6),
        graph('Throttled commands', [throttled], 6),
        graph('Cache read latency (µs)', [
          metric('SuccessfulReadRequestLatency', dims, 'p50', 'read p50'),
          metric('SuccessfulReadRequestLatency', dims, 'p99', 'read p99'),
        ], 6),
      ];
    }

    const nodeCount = cache.nodeCount ?? this.settings.cacheNodeCount;
    checkRange('dataCache.nodeCount', nodeCount, 1, 40, 'nodes');
    if (cache.engineName === 'memcached') {
      const dims = { CacheClusterId: cache.cacheName };
      const cpu = metric('CPUUtilization', dims, 'Maximum', 'CPUUtilization');
      this.addAlarm('DataCacheCpu', cpu, {
        threshold: this.settings.cacheCpuPercent,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `Data cache: Memcached CPU above ${this.settings.cacheCpuPercent}%`,
      });
      return [
        graph('Cache CPU (%)', [cpu], 6, [], { min: 0, max: 100 }),
        graph('Cache gets', [metric('GetHits', dims, 'Sum', 'GetHits'), metric('GetMisses', dims, 'Sum', 'GetMisses')], 6),
        graph('Cache evictions', [metric('Evictions', dims, 'Sum', 'Evictions')], 6),
        graph('Cache connections', [metric('CurrConnections', dims, 'Maximum', 'CurrConnections')], 6),
      ];
    }

    // A replication group (cluster mode disabled) publishes per member: `<id>-001`, `-002`, ...
    const members = Array.from({ length: nodeCount }, (_, i) => `${cache.cacheName}-${String(i + 1).padStart(3, '0')}`);
    const engineCpu: cloudwatch.IMetric[] = [];
    const memory: cloudwatch.IMetric[] = [];
    members.forEach((member, i) => {
      const dims = { CacheClusterId: member };
      const label = `node ${String(i + 1).padStart(3, '0')}`;
      const cpu = metric('EngineCPUUtilization', dims, 'Maximum', label);
      const mem = metric('DatabaseMemoryUsagePercentage', dims, 'Maximum', label);
      engineCpu.push(cpu);
      memory.push(mem);
      this.addAlarm(`DataCacheEngineCpu${i + 1}`, cpu, {
        threshold: this.settings.cacheCpuPercent,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `Data cache ${label}: engine CPU above ${this.settings.cacheCpuPercent}%`,
      });
      this.addAlarm(`DataCacheMemory${i + 1}`, mem, {
        threshold: this.settings.cacheMemoryPercent,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `Data cache ${label}: memory use above ${this.settings.cacheMemoryPercent}% (evictions follow)`,
      });
    });
    return [
      graph('Cache engine CPU (%)', engineCpu, 6, [], { min: 0, max: 100 }),
      graph('Cache memory used (%)', memory, 6, [], { min: 0, max: 100 }),
      graph('Cache evictions', members.map((m, i) => metric('Evictions', { CacheClusterId: m }, 'Sum', `node ${i + 1}`)), 6),
      graph('Cache hit rate (%)', members.map((m, i) => metric('CacheHitRate', { CacheClusterId: m }, 'Average', `node ${i + 1}`)), 6, [], { min: 0, max: 100 }),
    ];
  }

  // ----------------------------------------------------------------------------------------
  // CloudFront (metrics in us-east-1, dimension Region: Global)
  // ----------------------------------------------------------------------------------------

  private edgeSection(distributionId: string): cloudwatch.IWidget[] {
    const period = this.settings.period;
    const metric = (name: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/CloudFront',
        metricName: name,
        dimensionsMap: { DistributionId: distributionId, Region: 'Global' },
        statistic,
        period,
        label,
        region: CLOUDFRONT_METRICS_REGION,
      });
    const errors5xx = metric('5xxErrorRate', 'Average', '5xx rate');
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region === CLOUDFRONT_METRICS_REGION) {
      this.addAlarm('EdgeServerErrorRate', errors5xx, {
        threshold: this.settings.cloudFrontErrorRatePercent,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `CloudFront 5xx error rate above ${this.settings.cloudFrontErrorRatePercent}%`,
      });
    }
    const widgets: cloudwatch.IWidget[] = [
      graph('Edge requests', [metric('Requests', 'Sum', 'Requests')], 6),
      graph('Edge error rates (%)', [metric('4xxErrorRate', 'Average', '4xx rate'), errors5xx, metric('TotalErrorRate', 'Average', 'total')], 6),
    ];
    if (this.monitoringSubscription) {
      widgets.push(
        graph('Edge cache hit rate (%)', [metric('CacheHitRate', 'Average', 'CacheHitRate')], 6, [], { min: 0, max: 100 }),
        graph('Edge origin latency (ms)', [metric('OriginLatency', 'p50', 'p50'), metric('OriginLatency', 'p99', 'p99')], 6),
      );
    } else {
      widgets.push(new cloudwatch.TextWidget({
        markdown: 'Edge cache hit rate and origin latency need CloudFront additional metrics (`cloudFrontAdditionalMetrics: true`, charged per metric).',
        width: 12,
        height: 6,
      }));
    }
    return widgets;
  }

  // ----------------------------------------------------------------------------------------
  // Stream functions (cache sync)
  // ----------------------------------------------------------------------------------------

  private streamSection(functions: lambda.IFunction[]): cloudwatch.IWidget[] {
    const period = this.settings.period;
    const ages: cloudwatch.IMetric[] = [];
    const errors: cloudwatch.IMetric[] = [];
    for (const fn of functions) {
      const label = fn.node.id;
      const age = fn.metric('IteratorAge', { statistic: 'Maximum', period, label });
      const fnErrors = fn.metricErrors({ statistic: 'Sum', period, label });
      ages.push(age);
      errors.push(fnErrors);
      const id = fn.node.id.replace(/[^A-Za-z0-9]/g, '');
      this.addAlarm(`${id}IteratorAge`, age, {
        threshold: this.settings.iteratorAge.toMilliseconds(),
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `${fn.node.id}: stream records waiting longer than ${this.settings.iteratorAge.toHumanString()} (caches lag behind the table)`,
      });
      this.addAlarm(`${id}Errors`, fnErrors, {
        threshold: this.settings.functionErrors,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description: `${fn.node.id}: ${this.settings.functionErrors}+ errors per period`,
      });
    }
    return [graph('Stream iterator age (ms)', ages, 12), graph('Stream function errors', errors, 12)];
  }

  // ----------------------------------------------------------------------------------------

  private functionOf(route: ParsedRoute): lambda.Function {
    const fn = this.api.functions[route.key];
    if (!fn) throw new Error(`api.functions has no function for route ${route.key}`);
    return fn;
  }

  private addAlarm(
    id: string,
    metric: cloudwatch.IMetric,
    options: { threshold: number; comparison: cloudwatch.ComparisonOperator; description: string },
  ): cloudwatch.Alarm {
    if (this.alarms[id]) throw new Error(`two alarms named ${id}`);
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      metric,
      threshold: options.threshold,
      comparisonOperator: options.comparison,
      evaluationPeriods: this.settings.evaluationPeriods,
      datapointsToAlarm: this.settings.datapointsToAlarm,
      // No traffic is not an outage; every rate above is also held at a healthy value when
      // there is too little traffic to judge.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    if (this.alarmTopic) {
      const action = new cwActions.SnsAction(this.alarmTopic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.alarms[id] = alarm;
    this.alarmList.push(alarm);
    return alarm;
  }

  private newAlarmTopic(): sns.Topic {
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    // CloudWatch cannot use the AWS-managed alias/aws/sns key: a customer-managed key whose
    // policy lets CloudWatch encrypt the notifications it publishes.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm notifications of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.grant(cloudWatch, 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Alarms of ${this.api.restApi.restApiName}`,
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one: allow CloudWatch alarms of this account only.
    const stack = Stack.of(this);
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    return topic;
  }
}

function graph(
  title: string,
  metrics: cloudwatch.IMetric[],
  width: number,
  alarms: cloudwatch.IAlarm[] = [],
  leftYAxis?: cloudwatch.YAxisProps,
): cloudwatch.GraphWidget {
  const alarm = alarms[0] as cloudwatch.Alarm | undefined;
  return new cloudwatch.GraphWidget({
    title,
    left: metrics,
    width,
    height: 6,
    leftYAxis,
    leftAnnotations: alarm ? [alarm.toAnnotation()] : undefined,
    legendPosition: cloudwatch.LegendPosition.BOTTOM,
  });
}

function validate(s: Settings): void {
  if (s.alarmTopic && s.createAlarmTopic) {
    throw new Error('alarmTopic and createAlarmTopic are mutually exclusive: pass a topic or let one be created');
  }
  if (s.cloudFrontAdditionalMetrics && !s.distributionId) {
    throw new Error('cloudFrontAdditionalMetrics needs distributionId: the subscription is per distribution');
  }
  if (s.dashboardName !== undefined && !Token.isUnresolved(s.dashboardName) && !/^[A-Za-z0-9_-]{1,255}$/.test(s.dashboardName)) {
    throw new Error(`dashboardName must be 1 to 255 letters, digits, - or _, got "${s.dashboardName}"`);
  }
  if (!/^[^:][^:]{0,254}$/.test(s.metricsNamespace) || s.metricsNamespace.startsWith('AWS/')) {
    throw new Error(`metricsNamespace must be 1 to 255 characters without ':' and not start with "AWS/", got "${s.metricsNamespace}"`);
  }
  const periodSeconds = s.period.toSeconds();
  if (![10, 30].includes(periodSeconds) && (periodSeconds < 60 || periodSeconds % 60 !== 0)) {
    throw new Error(`period must be 10 s, 30 s or a multiple of 60 s, got ${periodSeconds} s`);
  }
  checkRange('evaluationPeriods', s.evaluationPeriods, 1, 100, 'periods');
  checkRange('datapointsToAlarm', s.datapointsToAlarm, 1, s.evaluationPeriods, 'periods (at most evaluationPeriods)');
  checkRange('serverErrorRatePercent', s.serverErrorRatePercent, 0, 100, 'percent', false);
  checkRange('minRequestsForErrorRate', s.minRequestsForErrorRate, 0, 1_000_000, 'requests');
  checkRange('latencyP99', s.latencyP99.toMilliseconds(), 1, 29_000, 'milliseconds (API Gateway times out at 29 s)');
  checkRange('functionErrors', s.functionErrors, 1, 1_000_000, 'errors');
  checkRange('functionThrottles', s.functionThrottles, 1, 1_000_000, 'throttles');
  checkRange('dataCacheHitRatioPercent', s.dataCacheHitRatioPercent, 0, 100, 'percent', false);
  checkRange('minLookupsForHitRatio', s.minLookupsForHitRatio, 0, 1_000_000, 'lookups');
  checkRange('cacheCpuPercent', s.cacheCpuPercent, 1, 100, 'percent', false);
  checkRange('cacheMemoryPercent', s.cacheMemoryPercent, 1, 100, 'percent', false);
  checkRange('cacheThrottledCommands', s.cacheThrottledCommands, 1, 1_000_000_000, 'commands');
  checkRange('cloudFrontErrorRatePercent', s.cloudFrontErrorRatePercent, 0, 100, 'percent', false);
  checkRange('iteratorAge', s.iteratorAge.toSeconds(), 1, 604_800, 'seconds');
}
