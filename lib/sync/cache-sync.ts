import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { withDefaults } from '../shared/defaults';
import { CACHE_SYNC_ENV, CACHE_SYNC_STREAM_DEFAULTS, CacheSyncProps, CacheSyncStreamOptions } from './cache-sync-props';
import { edgeInvalidationPaths } from '../edge/invalidation-paths';
import { acknowledge } from '../shared/nag';
import { dataCacheKeyPrefix } from '../api/route-environment';
import { checkRange, ParsedRoute } from '../api/route-table';
import { lambdaEntry } from '../functions/lambda-entry';
import { StatelessFunction, StatelessFunctionOptions } from '../functions/stateless-function';

export * from './cache-sync-props';

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
 * Keeps the edge and data caches true to a DynamoDB table whatever writes to it. The data purge
 * runs in the cache's VPC, reads the table's stream, deletes the affected keys and only then
 * forwards the changes' viewer paths to the edge purge's request queue; the edge purge runs
 * outside any VPC (CloudFront's API has no VPC endpoint) and invalidates them within CloudFront's
 * in-progress quotas (without a data cache it reads the stream itself). Partial-batch responses
 * everywhere; refused work goes to a retry queue, and what is given up on lands, replayable, on an
 * encrypted failure queue (`npm run redrive`). See lib/sync/README.md.
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
        entry: lambdaEntry('purge', 'edge-purge'),
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
      else this.acknowledgeQueueInvocation(fn);
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
        entry: lambdaEntry('purge', 'data-cache-purge'),
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

  /** A function that reads queues only: no stream grants, but the same acknowledgement of how it is invoked. */
  private acknowledgeQueueInvocation(fn: StatelessFunction): void {
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
