import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  API_MONITORING_DEFAULTS,
  METRICS_ENV,
  REQUEST_DIMENSIONS,
  REQUEST_METRICS,
} from './api-monitoring-defaults';
import type { ICacheableApi } from '../shared/cacheable-api-contract';
import { withDefaults } from '../shared/defaults';
import { ParsedRoute } from '../api/route-table';

import { AlarmActions } from './alarm-actions';
import { ApiMonitoringProps } from './api-monitoring-props';
import { AlarmOptions, dataCacheSection, edgeSection, graph, queueSection, SectionContext, Settings, validate } from './api-monitoring-sections';
import { chunked, sumOf } from './api-monitoring-alarms';

export * from './api-monitoring-props';

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
  private readonly api: ICacheableApi;
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
    // Every alarm under this construct, whichever section or later addition made it.
    if (this.alarmTopic) AlarmActions.notify(this, this.alarmTopic);
    else AlarmActions.warnWhenSilent(this, 'alarmTopic');

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
    if (props.dataCache) rows.push(dataCacheSection(this.sectionContext, props.dataCache));
    if (distributionId) {
      rows.push(edgeSection(this.sectionContext, distributionId, Stack.of(this).region, this.monitoringSubscription !== undefined));
    }
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

  /**
   * Watches work queues: the age of the oldest message of each backlog (e.g. CacheSync's
   * `edgeRequests` and `dataRetries`, whose SQS-fed purges have no iterator age) against
   * `iteratorAge`, and any message on a failure queue (`edgeFailures`, `dataFailures`,
   * `deadLetterQueue`). A graph and an alarm each.
   */
  public addQueues(queues: { backlogs?: sqs.IQueue[]; failures?: sqs.IQueue[] }): void {
    const widgets = queueSection(this.sectionContext, queues.backlogs ?? [], queues.failures ?? []);
    if (widgets.length > 0) this.dashboard.addWidgets(...widgets);
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
    /** Functions whose errors and throttles only the API-level sums watch, once each. */
    const summed = new Map<lambda.Function, string[]>();
    for (const route of this.api.routes) {
      const fn = this.functionOf(route);
      const label = route.key;
      duration.push(fn.metricDuration({ statistic: 'p99', period, label }));
      const fnErrors = fn.metricErrors({ statistic: 'Sum', period, label });
      const fnThrottles = fn.metricThrottles({ statistic: 'Sum', period, label });
      errors.push(fnErrors);
      throttles.push(fnThrottles);
      concurrency.push(fn.metric('ConcurrentExecutions', { statistic: 'Maximum', period, label }));
      if (!this.hasRouteAlarms(route)) {
        summed.set(fn, [...(summed.get(fn) ?? []), route.key]);
        continue;
      }
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
    // The other functions are watched in sums of up to 10 (CloudWatch's per-alarm limit): a few
    // alarms per API instead of two per route; the graphs above still tell which route it was.
    chunked([...summed]).forEach((group, i) => {
      const routes = group.flatMap(([, keys]) => keys).join(', ');
      const fns = group.map(([fn]) => fn);
      this.addAlarm(`FunctionErrors${i + 1}`, sumOf('e', fns.map((fn) => fn.metricErrors({ statistic: 'Sum', period })), period, 'Lambda errors'), {
        threshold: this.settings.functionErrors,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description: `${this.settings.functionErrors}+ Lambda errors (timeouts, crashes, init failures) per period, summed over ${routes}`.slice(0, 1024),
      });
      this.addAlarm(`FunctionThrottles${i + 1}`, sumOf('t', fns.map((fn) => fn.metricThrottles({ statistic: 'Sum', period })), period, 'Lambda throttles'), {
        threshold: this.settings.functionThrottles,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description: `${this.settings.functionThrottles}+ throttled invocations per period (concurrency exhausted), summed over ${routes}`.slice(0, 1024),
      });
    });
    return [
      graph('Function duration p99 (ms)', duration, 6),
      graph('Function errors', errors, 6),
      graph('Function throttles', throttles, 6),
      graph('Function concurrency (max)', concurrency, 6),
    ];
  }

  /** Whether a route has alarms of its own: its `alarms` option, else `routeAlarms`. */
  private hasRouteAlarms(route: ParsedRoute): boolean {
    return route.options.alarms ?? this.settings.routeAlarms;
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
      // Five metrics each: no sum over routes fits an alarm, so only routes that ask get one.
      if (!this.hasRouteAlarms(route)) return ratio;
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

  /** What the section builders in api-monitoring-sections.ts use of this construct. */
  private get sectionContext(): SectionContext {
    return { settings: this.settings, addAlarm: (id, metric, options) => this.addAlarm(id, metric, options) };
  }

  private addAlarm(
    id: string,
    metric: cloudwatch.IMetric,
    options: AlarmOptions,
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
