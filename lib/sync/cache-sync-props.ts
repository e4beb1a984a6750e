import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ParsedRoute } from '../api/route-table';
import type { StatelessFunctionOptions } from '../functions/stateless-function';

/**
 * Environment of the purge functions; lambda/purge/edge-purge.ts and data-cache-purge.ts read
 * the same names.
 */
export const CACHE_SYNC_ENV = {
  /** Id of the distribution to invalidate. */
  distributionId: 'DISTRIBUTION_ID',
  /** Comma-separated viewer path templates, e.g. `/items/{id},/items,/items?*`. */
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
   * @default - derived (`edgeInvalidationPaths`): each edge-cached GET route's path, and `path?*`
   * when its cache key includes query strings (`/items`, `/items?*`, `/items/{id}`)
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
