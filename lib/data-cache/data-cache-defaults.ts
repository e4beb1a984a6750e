/**
 * Secure defaults of `DataCache`, kept in one place (AWS Solutions Constructs style).
 *
 * - `DEFAULT_*` values apply when a prop is left out and can be overridden.
 * - `SECURE_*` settings are always applied: they are what the construct promises
 *   (TLS, encryption at rest, Multi-AZ, IAM authentication) and have no prop.
 * - `DATA_CACHE_LIMITS` are the accepted ranges; `DataCache` throws, naming the prop, outside them.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * Access string of the IAM-authenticated application user: every key (`~*`), no pub/sub
 * channel, and only the commands a cache client needs:
 * - `@read`, `@write`: GET/MGET, SET … PX NX, DEL, INCR (what lambda/runtime/cache/redis-store.ts sends);
 * - `@connection`: AUTH/HELLO (the IAM token), PING, CLIENT SETNAME/SETINFO;
 * - `eval`, `evalsha`: the runtime's lease and generation Lua scripts (the rest of `@scripting`,
 *   e.g. SCRIPT FLUSH or FUNCTION, stays out);
 * - minus `@dangerous`, which `@read`/`@write` would otherwise bring: FLUSHALL/FLUSHDB, KEYS, SORT,
 *   MIGRATE, RESTORE… (KEYS and FLUSH are the classic cache outages).
 * Administration, CONFIG, DEBUG, MONITOR, ACL and pub/sub are never granted.
 *
 * Not key-scoped by default because the key prefix is chosen per stack/route: pass
 * `accessString` (e.g. `~myapp:*`) to narrow it. A runtime that needs more (e.g. a cluster-mode
 * client's CLUSTER SLOTS, in `@slow`) must widen it the same way.
 */
export const DEFAULT_ACCESS_STRING = 'on ~* -@all +@read +@write +@connection +eval +evalsha -@dangerous';

/**
 * Access string of the `default` user that replaces the engine's built-in one: switched off
 * and allowed nothing, so a connection that skips IAM authentication can do nothing.
 */
export const DISABLED_DEFAULT_USER_ACCESS_STRING = 'off -@all';

/**
 * The generated password of the disabled `default` user. ElastiCache wants an authentication
 * mode for every user of a Valkey user group (password or IAM; IAM needs user id == user name,
 * and the id `default` is taken by the built-in user), so the user gets a long random password
 * from Secrets Manager that nobody reads, on top of being `off`.
 */
export const DEFAULT_USER_PASSWORD = {
  passwordLength: 64,
  // ElastiCache passwords exclude some printable characters (@, ", /, space); alphanumerics are safe.
  excludePunctuation: true,
  includeSpace: false,
} as const;

/** Defaults of `DataCacheProps`. */
export const DEFAULT_DATA_CACHE: {
  readonly accessString: string;
  readonly removalPolicy: RemovalPolicy;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
} = {
  accessString: DEFAULT_ACCESS_STRING,
  /** A cache holds data derived from the source of truth: rebuilding it is the recovery plan. */
  removalPolicy: RemovalPolicy.DESTROY,
  /** Flow logs and slow logs are audit evidence: they (and their key) outlive the stack. */
  logRemovalPolicy: RemovalPolicy.RETAIN,
  logRetention: logs.RetentionDays.ONE_YEAR,
};

/** The VPC `DataCache` creates when none is passed. */
export const DEFAULT_NETWORK = {
  maxAzs: 2,
  /** Only isolated subnets: no route to the internet, no NAT gateway to pay for or to leak through. */
  subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
  cidrMask: 24,
  natGateways: 0,
  flowLogTrafficType: ec2.FlowLogTrafficType.ALL,
  /** CIS EC2.2: the default security group allows nothing. */
  restrictDefaultSecurityGroup: true,
} as const;

/** Defaults of `ValkeyServerlessOptions`. */
export const DEFAULT_VALKEY_SERVERLESS = {
  majorEngineVersion: '8',
} as const;

/** Defaults of `ReplicationGroupOptions`. */
export const DEFAULT_REPLICATION_GROUP = {
  engine: 'valkey',
  /** Per engine: IAM authentication needs Valkey 7.2+ or Redis OSS 7.0+. */
  engineVersion: { valkey: '8.0', redis: '7.1' },
  cacheNodeType: 'cache.t4g.small',
  /** A primary and one replica in another AZ: the minimum for automatic failover. */
  numCacheClusters: 2,
  /** Not 6379 (AwsSolutions-AEC5): scanners probe default ports first. */
  port: 6380,
  /**
   * No snapshots: the cache is derived from the table, and a restored snapshot would hold
   * entries whose invalidations were never applied to it.
   */
  snapshotRetentionDays: 0,
} as const;

/** Defaults of `MemcachedOptions`. */
export const DEFAULT_MEMCACHED = {
  /** TLS needs 1.6.12+. */
  engineVersion: '1.6.22',
  cacheNodeType: 'cache.t4g.small',
  /** One node per AZ, so losing an AZ loses half of the cache, not all of it. */
  numCacheNodes: 2,
  /** Not 11211 (AwsSolutions-AEC5). */
  port: 11212,
} as const;

/** Always applied to the serverless cache (TLS is built in and cannot be turned off). */
export const SECURE_SERVERLESS = {
  engine: 'valkey',
} as const;

/** Always applied to the replication group. */
export const SECURE_REPLICATION_GROUP = {
  atRestEncryptionEnabled: true,
  transitEncryptionEnabled: true,
  /** Plain-text connections are refused, not just discouraged (`preferred`). */
  transitEncryptionMode: 'required',
  multiAzEnabled: true,
  automaticFailoverEnabled: true,
  autoMinorVersionUpgrade: true,
} as const;

/** Always applied to the Memcached cluster (Memcached has no encryption at rest). */
export const SECURE_MEMCACHED = {
  engine: 'memcached',
  transitEncryptionEnabled: true,
  autoMinorVersionUpgrade: true,
} as const;

/** Slow log delivery of the replication group. */
export const SLOW_LOG_DELIVERY = {
  destinationType: 'cloudwatch-logs',
  logFormat: 'json',
  logType: 'slow-log',
} as const;

/** Accepted ranges, checked at construction. */
export const DATA_CACHE_LIMITS = {
  /** ElastiCache Serverless usage limits. */
  dataStorageGb: { min: 1, max: 5000 },
  ecpuPerSecond: { min: 1000, max: 15_000_000 },
  /** Primary + up to 5 replicas; at least 2 for Multi-AZ with automatic failover. */
  numCacheClusters: { min: 2, max: 6 },
  /** ElastiCache's default per-cluster Memcached node quota. */
  numCacheNodes: { min: 1, max: 40 },
  snapshotRetentionDays: { min: 0, max: 35 },
  /** Unprivileged ports. */
  port: { min: 1024, max: 65535 },
  /** Oldest versions with IAM authentication (Valkey/Redis) or TLS (Memcached). */
  minServerlessValkeyMajor: 7,
  minEngineVersion: { valkey: '7.2', redis: '7.0', memcached: '1.6.12' },
  /** The engines' well-known ports, refused (AwsSolutions-AEC5). */
  defaultPort: { valkey: 6379, redis: 6379, memcached: 11211 },
  /** ElastiCache ids (cache, user, user group) are at most 40 characters. */
  idMaxLength: 40,
} as const;

/**
 * `defaults` overridden by every prop the caller actually set (an explicit `undefined`
 * keeps the default, unlike a plain spread).
 */
export function withDefaults<T extends object>(defaults: T, props: { readonly [K in keyof T]?: T[K] }): T {
  const defined = Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined));
  return { ...defaults, ...defined } as T;
}
