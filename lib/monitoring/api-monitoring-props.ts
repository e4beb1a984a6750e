import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { ICacheableApi } from '../shared/cacheable-api-contract';

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
  readonly api: ICacheableApi;
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
   * Topic every alarm of this construct notifies (ALARM and OK), including alarms added after
   * construction (an aspect wires them). Mutually exclusive with `createAlarmTopic`.
   * @default - no notification unless `createAlarmTopic`; synth then warns once (id
   * `cdk-cacheable-api:alarmsNotifyNobody`) that the alarms notify nobody
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
   * Give every route alarms of its own: Lambda errors and throttles of its function, and the
   * data-cache hit ratio of a cached read (three alarms per route). Off, those functions are
   * watched by API-level alarms that sum errors and throttles over up to 10 functions each
   * (`FunctionErrors1`, `FunctionThrottles1`, ...), and hit ratios only on the dashboard. A
   * route's `alarms` option overrides this for that route.
   * @default false
   */
  readonly routeAlarms?: boolean;
  /**
   * Lambda errors in a period (timeouts, crashes, init failures: the handler wrapper already
   * turns exceptions into 500s) from which an alarm goes off: summed over the functions of an
   * API-level alarm, or of one function for a route with alarms of its own.
   * @default 1
   */
  readonly functionErrors?: number;
  /**
   * Throttled invocations in a period from which an alarm goes off, counted as `functionErrors` is.
   * @default 1
   */
  readonly functionThrottles?: number;
  /**
   * Data-cache hit ratio of a cached read with alarms of its own (`routeAlarms` or the route's
   * `alarms`), in percent, below which its alarm goes off.
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
