import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { withDefaults } from '../shared/defaults';
import { edgeInvalidationPaths } from '../edge/invalidation-paths';
import { acknowledge } from '../shared/nag';
import { dataCacheKeyPrefix } from '../api/route-environment';
import { checkRange, ParsedRoute } from '../api/route-table';
import { StatelessFunction, StatelessFunctionOptions } from '../functions/stateless-function';

/**
 * Environment of the purge functions; lambda/purge/edge-purge.ts and data-cache-purge.ts read
 * the same names.
 */
export const CACHE_SYNC_ENV = {
  /** Id of the distribution to invalidate. */
  distributionId: 'DISTRIBUTION_ID',
  /** Comma-separated viewer path templates, e.g. `/items/{id},/items*`. */
  edgePaths: 'EDGE_PURGE_PATHS',
  /** Comma-separated data-cache key templates deleted per change, e.g. `item:{id}`. */
  dataKeys: 'DATA_PURGE_KEYS',
  /** Comma-separated data-cache groups whose generation is bumped per batch, e.g. `items`. */
  dataGroups: 'DATA_PURGE_GROUPS',
  /** Namespace of the data-cache keys: must be the route functions' (CacheableApi: the stack name). */
  dataKeyPrefix: 'DATA_CACHE_KEY_PREFIX',
  /** Most file paths per invalidation. */
  edgeMaxFilePaths: 'EDGE_PURGE_MAX_FILE_PATHS',
  /** The edge purge's request queue: the data purge forwards purged changes' paths, the edge purge hands off to it. */
  edgeQueueUrl: 'EDGE_PURGE_QUEUE_URL',
  /** The data purge's retry queue: work the cache refused, retried by the data purge. */
  dataRetryQueueUrl: 'DATA_PURGE_RETRY_QUEUE_URL',
} as const;

/**
 * What CacheSync needs of a data cache; `DataCache` (lib/data-cache/data-cache.ts) has this shape.
 */
export interface CacheSyncDataCache {
  /** The VPC the cache is in; the data purge function is placed in it. */
  readonly vpc: ec2.IVpc;
  /** The subnets for functions that use the cache. */
  readonly functionSubnets: ec2.SubnetSelection;
  /** Opens the cache to a function in `vpc` and sets its connection environment. */
  grantConnect(fn: lambda.Function): void;
  /** Build-time defines that keep only the cache's client in the purge bundle. */
  readonly bundlingDefine?: Record<string, string>;
}

/** How the purge functions read the table's stream. */
export interface CacheSyncStreamOptions {
  /**
   * Most records per invocation (1 to 10000).
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Longest wait to fill a batch (0 to 300 s): fewer CloudFront invalidations (each wildcard path
   * counts towards the 15 in progress) against a little more staleness.
   * @default Duration.seconds(1)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Retries of a failing batch (halved on each retry) before its records go to the failure queue.
   * @default 10
   */
  readonly retryAttempts?: number;
  /**
   * Records older than this go to the failure queue unprocessed (60 s to 7 days); the cache TTLs
   * bound the staleness from then on.
   * @default Duration.hours(1)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Concurrent batches per shard (1 to 10). Above 1, records of one key stay in order but batches
   * run in parallel.
   * @default 1
   */
  readonly parallelizationFactor?: number;
}

/** Properties of a CacheSync. */
export interface CacheSyncProps {
  /** The table whose changes the caches follow; its stream must carry NEW_AND_OLD_IMAGES. */
  readonly table: dynamodb.ITableV2;
  /** The API's routes (`CacheableApi.routes`); edge-cached GET routes give the paths to purge. */
  readonly routes: ParsedRoute[];
  /**
   * The distribution in front of the API. When given, every change invalidates the affected
   * viewer paths.
   * @default - no edge purge
   */
  readonly distribution?: cloudfront.IDistribution;
  /**
   * Path under which the distribution serves the API's routes, e.g. `/api`.
   * @default '' - routes are served at the distribution's root
   */
  readonly edgePathPrefix?: string;
  /**
   * Viewer path templates to purge instead of the ones derived from `routes`. `{name}` is
   * filled from the changed item's attribute of that name; a template without parameters is
   * purged once per batch.
   * @default - derived: each edge-cached GET route's path, with `*` appended when its cache key
   * includes query strings
   */
  readonly edgePaths?: string[];
  /**
   * The data cache to keep in sync. When given, a function in its VPC deletes the affected keys.
   * @default - no data-cache purge
   */
  readonly dataCache?: CacheSyncDataCache;
  /**
   * Key templates the handlers cache items under, deleted per change, e.g. `['item:{id}']`.
   * @default []
   */
  readonly dataKeys?: string[];
  /**
   * Cache groups (e.g. list pages) made stale as a whole on any change, e.g. `['items']`.
   * @default []
   */
  readonly dataGroups?: string[];
  /**
   * The route functions' data-cache key prefix.
   * @default - the stack name, as CacheableApi sets it
   */
  readonly dataKeyPrefix?: string;
  /** How the stream is read. @default - see CacheSyncStreamOptions */
  readonly stream?: CacheSyncStreamOptions;
  /**
   * How long the edge purge's request queue gathers paths before one invalidation (0 to 300 s):
   * a longer window sends fewer paths (each list path once per window) and keeps fewer
   * invalidations in progress, against a later invalidation.
   * @default Duration.seconds(5)
   */
  readonly edgeCoalescingWindow?: Duration;
  /**
   * Most file (non-wildcard) paths one invalidation carries (0 to 3000); beyond it, item paths
   * collapse into their route's wildcard (`/items/*`, one path). Lower it to cap the invalidation
   * bill at high write rates (lib/sync/README.md has the arithmetic), at the price of evicting
   * every item of the route at the edge once per coalescing window.
   * @default 3000 - CloudFront's in-progress quota: every changed item is invalidated by its own path
   */
  readonly edgeMaxFilePaths?: number;
  /**
   * Create an SQS interface endpoint in the data cache's VPC, through which the data purge (no NAT
   * there) reaches its retry queue and forwards purged changes to the edge purge. Set false when
   * the VPC already has an SQS endpoint with private DNS (a second one would fail to deploy).
   * @default true
   */
  readonly sqsEndpoint?: boolean;
  /** Settings of both purge functions. @default - StatelessFunction defaults, 256 MB */
  readonly functionDefaults?: StatelessFunctionOptions;
}

/** The stream-reading defaults, in one place. */
export const CACHE_SYNC_STREAM_DEFAULTS: Required<CacheSyncStreamOptions> = {
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(1),
  retryAttempts: 10,
  maxRecordAge: Duration.hours(1),
  parallelizationFactor: 1,
};

/**
 * The viewer path templates a change must invalidate: EdgeCache's invalidation paths of the
 * route table, under `prefix` when the distribution serves the API below a path.
 */
export function edgePurgePaths(routes: ParsedRoute[], prefix = ''): string[] {
  if (prefix !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)) {
    throw new Error(`edgePathPrefix must be empty or "/segment[/segment...]" without a trailing slash, got "${prefix}"`);
  }
  // The paths EdgeCache's behaviors cache, so the purge and the cache cannot disagree.
  return edgeInvalidationPaths(routes).map((p) => prefix + (p === '/' && prefix !== '' ? '' : p));
}

/**
 * Keeps the edge and data caches true to a DynamoDB table whatever writes to it: the table's
 * stream drives a purge function per cache. The edge purge runs outside any VPC (CloudFront's
 * API has no VPC endpoint and the data cache's VPC has no NAT) and invalidates the viewer paths
 * the changes affect; the data purge runs in the cache's VPC and deletes the affected keys. Both
 * read with partial-batch responses, bisect failing batches, and send what they give up on to an
 * encrypted failure queue.
 */
export class CacheSync extends Construct {
  /** The edge purge function, when a distribution was given. */
  public readonly edgePurge?: StatelessFunction;
  /** The data purge function, when a data cache was given. */
  public readonly dataPurge?: StatelessFunction;
  /**
   * What the edge purge gave up on: request-queue messages after five receives (the viewer paths,
   * replayable with `npm run redrive`), and, when it reads the stream itself, the stream's
   * failed-batch records (shard, sequence range).
   */
  public readonly edgeFailures?: sqs.Queue;
  /**
   * What the data purge gave up on: retry-queue messages after five receives (keys, groups and
   * edge paths, replayable with `npm run redrive`) and the stream's failed-batch records.
   */
  public readonly dataFailures?: sqs.Queue;
  /** The edge purge's input when a data cache is kept too: paths of changes already purged from it. */
  public readonly edgeRequests?: sqs.Queue;
  /** Work the data cache refused, retried by the data purge. */
  public readonly dataRetries?: sqs.Queue;
  /** The SQS interface endpoint in the data cache's VPC, when created. */
  public readonly sqsEndpoint?: ec2.InterfaceVpcEndpoint;
  /** Receives failure records that could not be handled after 5 receives. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The viewer path templates the edge purge invalidates. */
  public readonly edgePaths: string[];

  constructor(scope: Construct, id: string, props: CacheSyncProps) {
    super(scope, id);
    if (!props.distribution && !props.dataCache) {
      throw new Error('CacheSync needs a distribution, a dataCache, or both: there is nothing to keep in sync');
    }
    checkTableStream(props.table);
    const stream = withDefaults(CACHE_SYNC_STREAM_DEFAULTS, props.stream ?? {});
    checkStream(stream);

    this.edgePaths = props.edgePaths ?? edgePurgePaths(props.routes, props.edgePathPrefix ?? '');
    this.deadLetterQueue = this.queue('FailuresDlq');
    acknowledge(
      this.deadLetterQueue,
      'Serverless-SQSRedrivePolicy',
      'This is the dead-letter queue of the failure queues; a redrive policy on it would only move the same records one queue further',
    );
    const functionDefaults: StatelessFunctionOptions = { memorySize: 256, ...props.functionDefaults };

    if (props.distribution) {
      if (props.functionDefaults?.vpc) {
        throw new Error('functionDefaults.vpc: the edge purge calls CloudFront, whose API has no VPC endpoint; the data purge is placed in the data cache\'s VPC anyway');
      }
      checkTemplates('edgePaths', this.edgePaths, /^\/[^\s,]*$/, 'start with / and hold no comma or space');
      if (this.edgePaths.length === 0) {
        throw new Error('distribution: no route is edge-cached (cache.edge on a GET route); pass edgePaths to say what to purge');
      }
      const fn = new StatelessFunction(this, 'EdgePurge', {
        timeout: Duration.seconds(60),
        ...functionDefaults,
        entry: purgeEntry('edge-purge'),
        description: `Invalidates CloudFront paths when ${props.table.node.id} changes`,
        environment: {
          ...functionDefaults.environment,
          [CACHE_SYNC_ENV.distributionId]: props.distribution.distributionId,
          [CACHE_SYNC_ENV.edgePaths]: this.edgePaths.join(','),
        },
      });
      // Create, and count what is in progress (ListInvalidations, GetInvalidation) to stay within the quotas.
      props.distribution.grant(fn, 'cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 'cloudfront:ListInvalidations');
      this.edgeFailures = this.queue('EdgePurgeFailures', this.deadLetterQueue);
      this.edgeRequests = this.queue('EdgePurgeRequests', this.edgeFailures, fn);
      // Quota pressure hands paths off to the request queue instead of failing the batch.
      this.edgeRequests.grantSendMessages(fn);
      fn.addEnvironment(CACHE_SYNC_ENV.edgeQueueUrl, this.edgeRequests.queueUrl);
      const window = props.edgeCoalescingWindow ?? Duration.seconds(5);
      checkRange('edgeCoalescingWindow', window.toSeconds(), 0, 300, 'seconds');
      if (props.edgeMaxFilePaths !== undefined) {
        checkRange('edgeMaxFilePaths', props.edgeMaxFilePaths, 0, 3000, 'paths');
        fn.addEnvironment(CACHE_SYNC_ENV.edgeMaxFilePaths, String(props.edgeMaxFilePaths));
      }
      this.consume(
        fn,
        new SqsEventSource(this.edgeRequests, {
          batchSize: 1000,
          maxBatchingWindow: window,
          reportBatchItemFailures: true,
          // Few concurrent planners: each counts the others' invalidations before sending its own.
          maxConcurrency: 2,
        }),
      );
      // With a data cache, the data purge forwards each change once it is purged there: an
      // invalidation can then never complete before the data cache has dropped the old value.
      if (!props.dataCache) this.subscribe(fn, props.table, stream, this.edgeFailures);
      else this.allowWildcardFree(fn);
      this.edgePurge = fn;
    }

    if (props.dataCache) {
      const keys = props.dataKeys ?? [];
      const groups = props.dataGroups ?? [];
      checkTemplates('dataKeys', keys, /^[^\s,]+$/, 'hold no comma or space');
      checkTemplates('dataGroups', groups, /^[^\s,]+$/, 'hold no comma or space');
      if (keys.length + groups.length === 0) {
        throw new Error('dataCache: name what to invalidate with dataKeys (e.g. ["item:{id}"]) and/or dataGroups (e.g. ["items"])');
      }
      const environment: Record<string, string> = {
        ...functionDefaults.environment,
        [CACHE_SYNC_ENV.dataKeyPrefix]: props.dataKeyPrefix ?? dataCacheKeyPrefix(this),
      };
      if (keys.length > 0) environment[CACHE_SYNC_ENV.dataKeys] = keys.join(',');
      if (groups.length > 0) environment[CACHE_SYNC_ENV.dataGroups] = groups.join(',');
      // Egress only where grantConnect opens it (the cache port): the purge talks to nothing else.
      const securityGroups = functionDefaults.securityGroups ?? [
        new ec2.SecurityGroup(this, 'DataPurgeSecurityGroup', {
          vpc: props.dataCache.vpc,
          allowAllOutbound: false,
          description: 'Data-cache purge function: egress to the cache only',
        }),
      ];
      const fn = new StatelessFunction(this, 'DataPurge', {
        timeout: Duration.seconds(30),
        ...functionDefaults,
        vpc: props.dataCache.vpc,
        vpcSubnets: props.dataCache.functionSubnets,
        securityGroups,
        entry: purgeEntry('data-cache-purge'),
        define: { ...props.dataCache.bundlingDefine, ...functionDefaults?.define },
        description: `Invalidates data-cache keys when ${props.table.node.id} changes`,
        environment,
      });
      props.dataCache.grantConnect(fn);
      this.dataFailures = this.queue('DataPurgeFailures', this.deadLetterQueue);
      this.dataRetries = this.queue('DataPurgeRetries', this.dataFailures, fn);
      this.dataRetries.grantSendMessages(fn);
      fn.addEnvironment(CACHE_SYNC_ENV.dataRetryQueueUrl, this.dataRetries.queueUrl);
      this.consume(fn, new SqsEventSource(this.dataRetries, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2 }));
      if (this.edgeRequests) {
        this.edgeRequests.grantSendMessages(fn);
        fn.addEnvironment(CACHE_SYNC_ENV.edgeQueueUrl, this.edgeRequests.queueUrl);
        fn.addEnvironment(CACHE_SYNC_ENV.edgePaths, this.edgePaths.join(','));
      }
      if (props.sqsEndpoint ?? true) {
        this.sqsEndpoint = new ec2.InterfaceVpcEndpoint(this, 'SqsEndpoint', {
          vpc: props.dataCache.vpc,
          service: ec2.InterfaceVpcEndpointAwsService.SQS,
          subnets: props.dataCache.functionSubnets,
          privateDnsEnabled: true,
          open: false,
        });
        fn.connections.allowTo(this.sqsEndpoint, ec2.Port.tcp(443), 'Data purge to SQS (retry and edge queues)');
      }
      this.subscribe(fn, props.table, stream, this.dataFailures);
      this.dataPurge = fn;
    }
  }

  private subscribe(
    fn: StatelessFunction,
    table: dynamodb.ITableV2,
    stream: Required<CacheSyncStreamOptions>,
    failures: sqs.Queue,
  ): void {
    fn.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: stream.batchSize,
        maxBatchingWindow: stream.maxBatchingWindow,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: stream.retryAttempts,
        maxRecordAge: stream.maxRecordAge,
        parallelizationFactor: stream.parallelizationFactor,
        onFailure: new SqsDlq(failures),
      }),
    );
    // TableV2.grantStreamRead scopes dynamodb:ListStreams to the stream ARN, but the action has
    // no resource-level permissions (aws-cdk#34575), so that statement grants nothing; the event
    // source mapping's permission check needs it on "*" (as AWSLambdaDynamoDBExecutionRole has).
    fn.addWildcardResourcePolicy(['dynamodb:ListStreams'], 'dynamodb:ListStreams has no resource-level permissions and accepts only Resource "*"');
    acknowledge(
      fn,
      'Serverless-LambdaDLQ',
      'Invoked by a stream event source mapping, not asynchronously: failed batches go to the mapping\'s SQS on-failure destination',
    );
  }

  /** Reads a queue whose redrive policy, not an on-failure destination, keeps what failed. */
  private consume(fn: StatelessFunction, source: SqsEventSource): void {
    const before = new Set(fn.node.children);
    fn.addEventSource(source);
    for (const child of fn.node.children) {
      if (before.has(child)) continue;
      acknowledge(
        child,
        'Serverless-LambdaEventSourceMappingDestination',
        'An SQS event source mapping takes no on-failure destination: the queue\'s redrive policy moves a message that failed five receives to the failure queue',
      );
    }
  }

  /** The function reads no stream: it needs no ListStreams, only the acknowledgement of its invocation path. */
  private allowWildcardFree(fn: StatelessFunction): void {
    acknowledge(fn, 'Serverless-LambdaDLQ', 'Invoked by an SQS event source mapping, not asynchronously: failed messages go to the queue\'s dead-letter queue');
  }

  /** An encrypted, TLS-only queue; a consumer's queue stays invisible for six of its timeouts (AWS's advice). */
  private queue(id: string, deadLetterQueue?: sqs.IQueue, consumer?: lambda.Function): sqs.Queue {
    return new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: consumer ? Duration.seconds(6 * (consumer.timeout?.toSeconds() ?? 60)) : undefined,
      deadLetterQueue: deadLetterQueue ? { queue: deadLetterQueue, maxReceiveCount: 5 } : undefined,
    });
  }
}

/**
 * The table must stream NEW_AND_OLD_IMAGES: a change that moves an item from one value of a
 * templated attribute to another must purge both. (TableV2 exposes a stream ARN token even
 * without a stream, so the table resource itself is checked when it is in this app.)
 */
function checkTableStream(table: dynamodb.ITableV2): void {
  const fix = 'set dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES';
  const resource = table.node.defaultChild;
  if (resource instanceof dynamodb.CfnGlobalTable) {
    const spec = Stack.of(table).resolve(resource.streamSpecification) as { streamViewType?: string } | undefined;
    if (!spec?.streamViewType) throw new Error(`table ${table.node.path} has no stream: ${fix}`);
    if (spec.streamViewType !== dynamodb.StreamViewType.NEW_AND_OLD_IMAGES) {
      throw new Error(`table ${table.node.path} streams ${spec.streamViewType}; the purges need both images: ${fix}`);
    }
  } else if (!table.tableStreamArn) {
    throw new Error(`table ${table.node.path} has no stream ARN: import it with tableStreamArn (a NEW_AND_OLD_IMAGES stream)`);
  }
}

function checkStream(stream: Required<CacheSyncStreamOptions>): void {
  checkRange('stream.batchSize', stream.batchSize, 1, 10000, 'records');
  checkRange('stream.maxBatchingWindow', stream.maxBatchingWindow.toSeconds(), 0, 300, 'seconds');
  checkRange('stream.retryAttempts', stream.retryAttempts, 0, 10000, 'retries');
  checkRange('stream.maxRecordAge', stream.maxRecordAge.toSeconds(), 60, 604_800, 'seconds');
  checkRange('stream.parallelizationFactor', stream.parallelizationFactor, 1, 10, 'batches per shard');
}

function checkTemplates(prop: string, templates: string[], pattern: RegExp, rule: string): void {
  for (const template of templates) {
    if (!pattern.test(template)) throw new Error(`${prop}: "${template}" must ${rule}`);
  }
}

/** The purge handler's source: lambda/purge/<name>.ts beside lib/, or the compiled .js beside dist/lib. */
function purgeEntry(name: string): string {
  const candidates = [
    path.join(__dirname, '..', '..', 'lambda', 'purge', `${name}.ts`),
    path.join(__dirname, '..', '..', 'lambda', 'purge', `${name}.js`),
    path.join(__dirname, '..', '..', '..', 'lambda', 'purge', `${name}.ts`),
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`purge handler ${name} not found (looked in ${candidates.join(', ')})`);
  return found;
}
