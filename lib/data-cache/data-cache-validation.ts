/**
 * Private to DataCache: resolves an engine's settings over its defaults and validates every
 * prop before anything is built.
 */
import { RemovalPolicy, Token } from 'aws-cdk-lib';
import { DATA_CACHE_LIMITS, DEFAULT_MEMCACHED, DEFAULT_REPLICATION_GROUP, DEFAULT_VALKEY_SERVERLESS, withDefaults } from './data-cache-defaults';
import {
  DataCacheEngine,
  DataCacheProps,
  DataCacheValidationError,
  MemcachedOptions,
  ReplicationGroupOptions,
  ValkeyServerlessOptions,
} from './data-cache-props';

export type ResolvedServerless = ValkeyServerlessOptions & { readonly majorEngineVersion: string };
export type ResolvedReplicationGroup = Required<Omit<ReplicationGroupOptions, 'parameters'>> & Pick<ReplicationGroupOptions, 'parameters'>;
export type ResolvedMemcached = Required<MemcachedOptions>;

/** The engine with every default applied and every setting validated. */
export type ResolvedEngine =
  | { readonly name: 'valkey-serverless'; readonly options: ResolvedServerless }
  | { readonly name: 'redis'; readonly options: ResolvedReplicationGroup }
  | { readonly name: 'memcached'; readonly options: ResolvedMemcached };

export function resolveEngine(engine: DataCacheEngine): ResolvedEngine {
  const config = engine.config;
  switch (config.name) {
    case 'valkey-serverless': {
      const options = withDefaults<ResolvedServerless>(DEFAULT_VALKEY_SERVERLESS, config.options);
      validateServerless(options);
      return { name: config.name, options };
    }
    case 'redis': {
      const nodeEngine = config.options.engine ?? DEFAULT_REPLICATION_GROUP.engine;
      const options = withDefaults<ResolvedReplicationGroup>(
        {
          engine: nodeEngine,
          // Unknown engines are reported by validateReplicationGroup, not here.
          engineVersion: DEFAULT_REPLICATION_GROUP.engineVersion[nodeEngine] ?? '',
          cacheNodeType: DEFAULT_REPLICATION_GROUP.cacheNodeType,
          numCacheClusters: DEFAULT_REPLICATION_GROUP.numCacheClusters,
          port: DEFAULT_REPLICATION_GROUP.port,
          snapshotRetentionDays: DEFAULT_REPLICATION_GROUP.snapshotRetentionDays,
        },
        config.options,
      );
      validateReplicationGroup(options);
      return { name: config.name, options };
    }
    case 'memcached': {
      const options = withDefaults<ResolvedMemcached>(DEFAULT_MEMCACHED, config.options);
      validateMemcached(options);
      return { name: config.name, options };
    }
  }
}

// ---------------------------------------------------------------------------------------
// Validation: every message names the prop and what it accepts.

function invalid(message: string): never {
  throw new DataCacheValidationError(message);
}

function checkIntegerInRange(prop: string, value: number | undefined, range: { min: number; max: number }): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    invalid(`${prop} must be an integer between ${range.min} and ${range.max} (got ${value})`);
  }
}

function checkPort(prop: string, port: number, defaultPort: number): void {
  checkIntegerInRange(prop, port, DATA_CACHE_LIMITS.port);
  if (port === defaultPort) {
    invalid(`${prop} must not be the engine's default port ${defaultPort} (AwsSolutions-AEC5); use e.g. ${defaultPort + 1}`);
  }
}

export function parseVersion(version: string): number[] {
  return version.split('.').map(Number);
}

function checkMinVersion(prop: string, version: string, minimum: string, why: string): void {
  if (Token.isUnresolved(version)) return;
  if (!/^\d+\.\d+(\.\d+)?$/.test(version)) {
    invalid(`${prop} must be a version like "${minimum}" (got "${version}")`);
  }
  const actual = parseVersion(version);
  const min = parseVersion(minimum);
  for (let i = 0; i < Math.max(actual.length, min.length); i++) {
    const a = actual[i] ?? 0;
    const m = min[i] ?? 0;
    if (a > m) return;
    if (a < m) invalid(`${prop} must be ${minimum} or later (${why}); got "${version}"`);
  }
}

function checkNodeType(prop: string, nodeType: string): void {
  if (Token.isUnresolved(nodeType)) return;
  if (!/^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(nodeType)) {
    invalid(`${prop} must be a node type like "cache.t4g.small" (got "${nodeType}")`);
  }
}

export function validateCommonProps(engine: DataCacheEngine, props: DataCacheProps, removalPolicy: RemovalPolicy): void {
  if (engine.name === 'memcached' && props.encryptionKey) {
    invalid('encryptionKey is not supported by the memcached engine (Memcached keeps no data at rest)');
  }
  if (engine.name === 'memcached' && props.accessString !== undefined) {
    invalid('accessString is not supported by the memcached engine (Memcached has no users)');
  }
  if (removalPolicy === RemovalPolicy.SNAPSHOT && engine.name !== 'redis') {
    invalid(`removalPolicy RemovalPolicy.SNAPSHOT is supported by the replicationGroup engine only (got ${engine.name})`);
  }
  if (props.accessString !== undefined && !Token.isUnresolved(props.accessString)) {
    if (!/^on(\s|$)/.test(props.accessString)) {
      invalid(`accessString must start with "on" (an "off" user cannot connect); got "${props.accessString}"`);
    }
  }
}

function validateServerless(o: ResolvedServerless): void {
  if (!Token.isUnresolved(o.majorEngineVersion)) {
    const major = Number(o.majorEngineVersion);
    if (!/^\d+$/.test(o.majorEngineVersion) || major < DATA_CACHE_LIMITS.minServerlessValkeyMajor) {
      invalid(
        `engine.majorEngineVersion must be a major version, ${DATA_CACHE_LIMITS.minServerlessValkeyMajor} or later ` +
          `(IAM authentication); got "${o.majorEngineVersion}"`,
      );
    }
  }
  checkIntegerInRange('engine.maxDataStorageGb', o.maxDataStorageGb, DATA_CACHE_LIMITS.dataStorageGb);
  checkIntegerInRange('engine.maxEcpuPerSecond', o.maxEcpuPerSecond, DATA_CACHE_LIMITS.ecpuPerSecond);
}

function validateReplicationGroup(o: ResolvedReplicationGroup): void {
  if (o.engine !== 'valkey' && o.engine !== 'redis') {
    invalid(`engine.engine must be "valkey" or "redis" (got "${o.engine}")`);
  }
  checkMinVersion(
    'engine.engineVersion',
    o.engineVersion,
    DATA_CACHE_LIMITS.minEngineVersion[o.engine],
    `IAM authentication and TransitEncryptionMode "required" on ${o.engine}`,
  );
  checkNodeType('engine.cacheNodeType', o.cacheNodeType);
  checkIntegerInRange('engine.numCacheClusters', o.numCacheClusters, DATA_CACHE_LIMITS.numCacheClusters);
  checkPort('engine.port', o.port, DATA_CACHE_LIMITS.defaultPort[o.engine]);
  checkIntegerInRange('engine.snapshotRetentionDays', o.snapshotRetentionDays, DATA_CACHE_LIMITS.snapshotRetentionDays);
  if (o.parameters && Object.keys(o.parameters).length === 0) {
    invalid('engine.parameters must name at least one parameter when set (leave it out for the default parameter group)');
  }
}

function validateMemcached(o: ResolvedMemcached): void {
  checkMinVersion('engine.engineVersion', o.engineVersion, DATA_CACHE_LIMITS.minEngineVersion.memcached, 'in-transit encryption on Memcached');
  checkNodeType('engine.cacheNodeType', o.cacheNodeType);
  checkIntegerInRange('engine.numCacheNodes', o.numCacheNodes, DATA_CACHE_LIMITS.numCacheNodes);
  checkPort('engine.port', o.port, DATA_CACHE_LIMITS.defaultPort.memcached);
}
