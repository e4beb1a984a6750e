/**
 * Private to ApiMonitoring: the settings it runs with, their validation, and the dashboard
 * sections for the data cache and CloudFront.
 */
import { Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { API_MONITORING_DEFAULTS, CLOUDFRONT_METRICS_REGION } from './api-monitoring-defaults';
import { ApiMonitoringProps, MonitoredDataCache } from './api-monitoring-props';
import { checkRange } from '../api/route-table';

export type Settings = typeof API_MONITORING_DEFAULTS & ApiMonitoringProps;

/** An alarm's threshold, comparison and description. */
export interface AlarmOptions {
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  readonly description: string;
}

/** What a section builder needs from the ApiMonitoring it builds for. */
export interface SectionContext {
  readonly settings: Settings;
  addAlarm(id: string, metric: cloudwatch.IMetric, options: AlarmOptions): cloudwatch.Alarm;
}

// ----------------------------------------------------------------------------------------
// ElastiCache
// ----------------------------------------------------------------------------------------

export function dataCacheSection(context: SectionContext, cache: MonitoredDataCache): cloudwatch.IWidget[] {
  const period = context.settings.period;
  const metric = (name: string, dimensionsMap: Record<string, string>, statistic: string, label: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName: name, dimensionsMap, statistic, period, label });
  const serverless = cache.serverless ?? cache.engineName.endsWith('-serverless');

  if (serverless) {
    const dims = { clusterId: cache.cacheName };
    const throttled = metric('ThrottledCmds', dims, 'Sum', 'Throttled commands');
    context.addAlarm('DataCacheThrottled', throttled, {
      threshold: context.settings.cacheThrottledCommands,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `Data cache: ${context.settings.cacheThrottledCommands}+ throttled commands per period (load grew faster than the serverless cache scales)`,
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

  const nodeCount = cache.nodeCount ?? context.settings.cacheNodeCount;
  checkRange('dataCache.nodeCount', nodeCount, 1, 40, 'nodes');
  if (cache.engineName === 'memcached') {
    const dims = { CacheClusterId: cache.cacheName };
    const cpu = metric('CPUUtilization', dims, 'Maximum', 'CPUUtilization');
    context.addAlarm('DataCacheCpu', cpu, {
      threshold: context.settings.cacheCpuPercent,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `Data cache: Memcached CPU above ${context.settings.cacheCpuPercent}%`,
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
    context.addAlarm(`DataCacheEngineCpu${i + 1}`, cpu, {
      threshold: context.settings.cacheCpuPercent,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `Data cache ${label}: engine CPU above ${context.settings.cacheCpuPercent}%`,
    });
    context.addAlarm(`DataCacheMemory${i + 1}`, mem, {
      threshold: context.settings.cacheMemoryPercent,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `Data cache ${label}: memory use above ${context.settings.cacheMemoryPercent}% (evictions follow)`,
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

/**
 * `region` is the stack's: CloudFront publishes its metrics in us-east-1 only, so an alarm on
 * them can live only there. `additionalMetrics`: the distribution has the monitoring subscription.
 */
export function edgeSection(context: SectionContext, distributionId: string, region: string, additionalMetrics: boolean): cloudwatch.IWidget[] {
  const period = context.settings.period;
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
  if (!Token.isUnresolved(region) && region === CLOUDFRONT_METRICS_REGION) {
    context.addAlarm('EdgeServerErrorRate', errors5xx, {
      threshold: context.settings.cloudFrontErrorRatePercent,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `CloudFront 5xx error rate above ${context.settings.cloudFrontErrorRatePercent}%`,
    });
  }
  const widgets: cloudwatch.IWidget[] = [
    graph('Edge requests', [metric('Requests', 'Sum', 'Requests')], 6),
    graph('Edge error rates (%)', [metric('4xxErrorRate', 'Average', '4xx rate'), errors5xx, metric('TotalErrorRate', 'Average', 'total')], 6),
  ];
  if (additionalMetrics) {
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
// Work queues (e.g. CacheSync's edge-purge requests, data-purge retries and failure queues)
// ----------------------------------------------------------------------------------------

/**
 * A queue's consumer can fall behind without an error or an iterator age (an SQS-fed function
 * has none): the age of the oldest message says how late its work is, and anything on a
 * failure queue is work given up on, to replay (`npm run redrive`).
 */
export function queueSection(context: SectionContext, backlogs: sqs.IQueue[], failures: sqs.IQueue[]): cloudwatch.IWidget[] {
  const { period, iteratorAge } = context.settings;
  const idOf = (queue: sqs.IQueue) => queue.node.path.split('/').slice(-2).join('').replace(/[^A-Za-z0-9]/g, '');
  const ages = backlogs.map((queue) => {
    const age = queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period, label: queue.node.id });
    context.addAlarm(`${idOf(queue)}OldestMessage`, age, {
      threshold: iteratorAge.toSeconds(),
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `${queue.node.path}: a message waiting longer than ${iteratorAge.toHumanString()} (its consumer lags; caches stay stale until it catches up)`,
    });
    return age;
  });
  const depths = failures.map((queue) => {
    const depth = queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period, label: queue.node.id });
    context.addAlarm(`${idOf(queue)}Messages`, depth, {
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `${queue.node.path}: work given up on after retries (replay with npm run redrive once the cause is fixed)`,
    });
    return depth;
  });
  const widgets: cloudwatch.IWidget[] = [];
  if (ages.length > 0) widgets.push(graph('Queue: oldest message age (s)', ages, 12));
  if (depths.length > 0) widgets.push(graph('Failure queues: messages', depths, 12));
  return widgets;
}

export function graph(
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

export function validate(s: Settings): void {
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
