import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * Environment variables `DataCache.grantConnect()` sets on a function: the contract between
 * the infrastructure and the handler runtime that connects to the cache.
 */
export const DATA_CACHE_ENV = {
  /** `valkey-serverless` | `redis` | `memcached` (see `DataCacheEngineName`). */
  engine: 'DATA_CACHE_ENGINE',
  /** `host:port` of the endpoint to connect to. */
  endpoint: 'DATA_CACHE_ENDPOINT',
  /** Always `true`: every engine is reached over TLS. */
  tls: 'DATA_CACHE_TLS',
  /** `iam` (Valkey/Redis: sign an IAM token) | `none` (Memcached). */
  auth: 'DATA_CACHE_AUTH',
  /** The ElastiCache user id to authenticate as; set only when `auth` is `iam`. */
  user: 'DATA_CACHE_USER',
  /** Serverless cache name / replication group id / cluster id: the host an IAM token is signed for. */
  name: 'DATA_CACHE_NAME',
} as const;

/**
 * What the runtime connects to:
 * - `valkey-serverless`: ElastiCache Serverless for Valkey (cluster-mode endpoint, IAM auth);
 * - `redis`: a node-based Valkey or Redis OSS replication group (cluster mode disabled, IAM auth);
 * - `memcached`: a Memcached cluster (configuration endpoint, no authentication).
 */
export type DataCacheEngineName = 'valkey-serverless' | 'redis' | 'memcached';

/** Engine of a node-based replication group. Both speak the same protocol. */
export type ReplicationGroupEngine = 'valkey' | 'redis';

/** Settings of an ElastiCache Serverless for Valkey cache. */
export interface ValkeyServerlessOptions {
  /**
   * Major Valkey version. 7 or later (IAM authentication).
   * @default '8'
   */
  readonly majorEngineVersion?: string;
  /**
   * Most data the cache may hold, in GB (1 to 5000). Caps the storage bill; writes fail with
   * out-of-memory errors beyond it, which the runtime treats as a cache miss.
   * @default - no limit
   */
  readonly maxDataStorageGb?: number;
  /**
   * Most ElastiCache Processing Units per second (1000 to 15,000,000). Caps the request bill;
   * requests beyond it are throttled.
   * @default - no limit
   */
  readonly maxEcpuPerSecond?: number;
}

/** Settings of a node-based Valkey or Redis OSS replication group (cluster mode disabled). */
export interface ReplicationGroupOptions {
  /**
   * Engine of the nodes.
   * @default 'valkey'
   */
  readonly engine?: ReplicationGroupEngine;
  /**
   * Engine version: Valkey 7.2 or later, Redis OSS 7.0 or later (IAM authentication and
   * `TransitEncryptionMode: required` need them).
   * @default '8.0' for Valkey, '7.1' for Redis OSS
   */
  readonly engineVersion?: string;
  /**
   * Node type, e.g. `cache.r7g.large`.
   * @default 'cache.t4g.small'
   */
  readonly cacheNodeType?: string;
  /**
   * Number of nodes: one primary and `numCacheClusters - 1` replicas spread over the subnets'
   * Availability Zones, 2 to 6 (Multi-AZ with automatic failover needs a replica).
   * @default 2
   */
  readonly numCacheClusters?: number;
  /**
   * TCP port of the nodes, 1024 to 65535, not 6379 (AwsSolutions-AEC5).
   * @default 6380
   */
  readonly port?: number;
  /**
   * Days automatic snapshots are kept, 0 (no snapshots) to 35.
   * @default 0 - the cache is derived data; a restored snapshot would be stale
   */
  readonly snapshotRetentionDays?: number;
  /**
   * Engine parameters, e.g. `{ 'maxmemory-policy': 'volatile-lru' }`. When set, a parameter
   * group of the engine's family (e.g. `valkey8`) is created with them.
   * @default - the engine's default parameter group
   */
  readonly parameters?: { readonly [name: string]: string };
}

/** Settings of a Memcached cluster. */
export interface MemcachedOptions {
  /**
   * Memcached version, 1.6.12 or later (in-transit encryption needs it).
   * @default '1.6.22'
   */
  readonly engineVersion?: string;
  /**
   * Node type, e.g. `cache.r7g.large`.
   * @default 'cache.t4g.small'
   */
  readonly cacheNodeType?: string;
  /**
   * Number of nodes, 1 to 40. With more than one, nodes are spread across Availability Zones.
   * @default 2
   */
  readonly numCacheNodes?: number;
  /**
   * TCP port of the nodes, 1024 to 65535, not 11211 (AwsSolutions-AEC5).
   * @default 11212
   */
  readonly port?: number;
}

/** The engine chosen, with its settings: what `DataCacheEngine` wraps. */
export type DataCacheEngineConfig =
  | { readonly name: 'valkey-serverless'; readonly options: ValkeyServerlessOptions }
  | { readonly name: 'redis'; readonly options: ReplicationGroupOptions }
  | { readonly name: 'memcached'; readonly options: MemcachedOptions };

/** The cache engine of a `DataCache`, with its settings. */
export class DataCacheEngine {
  /** ElastiCache Serverless for Valkey: no nodes to size, Multi-AZ and TLS built in, IAM auth. */
  public static valkeyServerless(options: ValkeyServerlessOptions = {}): DataCacheEngine {
    return new DataCacheEngine({ name: 'valkey-serverless', options });
  }

  /** A node-based Valkey or Redis OSS replication group: Multi-AZ, TLS, encrypted at rest, IAM auth. */
  public static replicationGroup(options: ReplicationGroupOptions = {}): DataCacheEngine {
    return new DataCacheEngine({ name: 'redis', options });
  }

  /** A Memcached cluster: TLS, nodes across AZs; no authentication (network isolation only). */
  public static memcached(options: MemcachedOptions = {}): DataCacheEngine {
    return new DataCacheEngine({ name: 'memcached', options });
  }

  private constructor(
    /** The engine and its settings, as given. */
    public readonly config: DataCacheEngineConfig,
  ) {}

  /** The engine's name, as the runtime sees it in `DATA_CACHE_ENGINE`. */
  public get name(): DataCacheEngineName {
    return this.config.name;
  }
}

/** Properties of a `DataCache`. */
export interface DataCacheProps {
  /**
   * The engine and its settings.
   * @default DataCacheEngine.valkeyServerless()
   */
  readonly engine?: DataCacheEngine;
  /**
   * The VPC to place the cache in. Functions that use the cache must be in it too.
   * @default - a new VPC with isolated subnets only in 2 AZs, no NAT gateway, flow logs to an
   * encrypted log group, a DynamoDB gateway endpoint, and a default security group that allows nothing
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnets of `vpc` to place the cache in, in at least 2 Availability Zones (except a
   * single-node Memcached cluster), never public ones. Exposed as `functionSubnets` for the functions.
   * @default - the VPC's isolated subnets, or its private subnets when it has no isolated ones
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Access string of the IAM-authenticated application user (Valkey/Redis only).
   * @default 'on ~* -@all +@read +@write +@connection +eval +evalsha -@dangerous' (see `DEFAULT_ACCESS_STRING`)
   */
  readonly accessString?: string;
  /**
   * Customer managed key for data at rest (serverless cache and replication group; Memcached
   * keeps no data at rest).
   * @default - an AWS owned key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the cache (and the `default` user's secret) when it leaves the stack.
   * `RemovalPolicy.SNAPSHOT` is accepted for replication groups only.
   * @default RemovalPolicy.DESTROY - a cache holds derived data
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * What happens to the flow-log and slow-log groups, and the key that encrypts them, when they
   * leave the stack.
   * @default RemovalPolicy.RETAIN - logs are audit evidence
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Retention of the flow-log and slow-log groups.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Thrown at construction when a `DataCache` prop is outside its allowed range. */
export class DataCacheValidationError extends Error {
  public readonly name = 'DataCacheValidationError';
}
