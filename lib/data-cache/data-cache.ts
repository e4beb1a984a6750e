import { ArnFormat, CfnResource, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  DEFAULT_DATA_CACHE,
  DEFAULT_MEMCACHED,
  DEFAULT_NETWORK,
  DEFAULT_REPLICATION_GROUP,
  DEFAULT_USER_PASSWORD,
  DEFAULT_VALKEY_SERVERLESS,
  DISABLED_DEFAULT_USER_ACCESS_STRING,
  DATA_CACHE_LIMITS,
  SECURE_MEMCACHED,
  SECURE_REPLICATION_GROUP,
  SECURE_SERVERLESS,
  SLOW_LOG_DELIVERY,
  withDefaults,
} from './data-cache-defaults';
import { acknowledge } from '../shared/nag';

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
   * single-node Memcached cluster). Exposed as `functionSubnets` for the functions.
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

/**
 * An ElastiCache cache reachable only from the functions it is granted to: Valkey serverless
 * (default), a Valkey/Redis replication group or a Memcached cluster, always over TLS, in
 * isolated subnets, with IAM authentication where the engine has it.
 *
 * See `data-cache.md` for the props and the default settings.
 */
export class DataCache extends Construct {
  /** The VPC the cache is in. */
  public readonly vpc: ec2.IVpc;
  /** The subnets to place the functions that use the cache in (the cache's own subnets). */
  public readonly functionSubnets: ec2.SubnetSelection;
  /** The cache's security group: no rule until `grantConnect()` opens the cache port to a function. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** Connections of the cache, with the cache port as default port. */
  public readonly connections: ec2.Connections;
  /** The engine's name, as the runtime sees it in `DATA_CACHE_ENGINE`. */
  public readonly engineName: DataCacheEngineName;
  /** The endpoint's host name (a token). */
  public readonly endpointAddress: string;
  /** The endpoint's port (a token). */
  public readonly endpointPort: string;
  /** The port the security group opens. */
  public readonly port: number;
  /** Serverless cache name, replication group id or Memcached cluster id. */
  public readonly cacheName: string;
  /** ARN of the serverless cache, replication group or Memcached cluster. */
  public readonly cacheArn: string;
  /** Id (== name) of the IAM-authenticated ElastiCache user; undefined for Memcached. */
  public readonly iamUserId?: string;
  /** ARN of the IAM-authenticated ElastiCache user; undefined for Memcached. */
  public readonly iamUserArn?: string;
  /** The cache's L1 resource. */
  public readonly cacheResource: CfnResource;
  /** The log group of the VPC's flow logs, when the VPC was created here. */
  public readonly flowLogGroup?: logs.ILogGroup;
  /** The log group of the replication group's slow log. */
  public readonly slowLogGroup?: logs.ILogGroup;

  private readonly settings: typeof DEFAULT_DATA_CACHE;
  private logKey?: kms.Key;

  constructor(scope: Construct, id: string, props: DataCacheProps = {}) {
    super(scope, id);
    const engine = props.engine ?? DataCacheEngine.valkeyServerless();
    this.engineName = engine.name;
    this.settings = withDefaults(DEFAULT_DATA_CACHE, {
      accessString: props.accessString,
      removalPolicy: props.removalPolicy,
      logRemovalPolicy: props.logRemovalPolicy,
      logRetention: props.logRetention,
    });
    validateCommonProps(engine, props, this.settings.removalPolicy);
    // Every prop is checked before anything is built.
    const resolved = resolveEngine(engine);

    if (props.vpc) {
      this.vpc = props.vpc;
    } else {
      const flowLogGroup = this.newLogGroup('FlowLogs');
      this.vpc = this.newIsolatedVpc(flowLogGroup);
      this.flowLogGroup = flowLogGroup;
    }
    this.functionSubnets = props.vpcSubnets ?? defaultSubnets(this.vpc);
    const subnetIds = this.selectCacheSubnets(resolved);

    const built = (() => {
      switch (resolved.name) {
        case 'valkey-serverless':
          return this.buildServerless(resolved.options, subnetIds, props.encryptionKey);
        case 'redis':
          return this.buildReplicationGroup(resolved.options, subnetIds, props.encryptionKey);
        case 'memcached':
          return this.buildMemcached(resolved.options, subnetIds);
      }
    })();
    this.securityGroup = built.securityGroup;
    this.port = built.port;
    this.connections = new ec2.Connections({
      securityGroups: [built.securityGroup],
      defaultPort: ec2.Port.tcp(built.port),
    });
    this.cacheResource = built.resource;
    this.endpointAddress = built.endpointAddress;
    this.endpointPort = built.endpointPort;
    this.cacheName = built.cacheName;
    this.cacheArn = built.cacheArn;
    this.iamUserId = built.user?.userId;
    this.iamUserArn = built.user?.attrArn;
    this.slowLogGroup = built.slowLogGroup;

    this.applyRemovalPolicies(built.resource);
  }

  /**
   * The esbuild `define` that keeps only this engine's client in a function's bundle (the
   * runtime picks its backend by engine; without it both clients are bundled).
   */
  public get bundlingDefine(): Record<string, string> {
    return { 'process.env.DATA_CACHE_BUNDLED_BACKEND': JSON.stringify(this.engineName === 'memcached' ? 'memcached' : 'redis') };
  }

  /**
   * Lets `fn` use the cache: opens the security group from the function's security groups on
   * the cache port only, grants `elasticache:Connect` on the cache and its IAM user
   * (Valkey/Redis), and sets the `DATA_CACHE_*` environment variables (`DATA_CACHE_ENV`).
   *
   * @param fn a function already placed in `vpc` (e.g. `vpc: cache.vpc, vpcSubnets: cache.functionSubnets`)
   */
  public grantConnect(fn: lambda.Function): void {
    if (!fn.isBoundToVpc) {
      throw new DataCacheValidationError(
        `${this.node.path}: grantConnect(${fn.node.path}) needs a function in the cache's VPC ` +
          '(create it with `vpc: cache.vpc, vpcSubnets: cache.functionSubnets`): a function outside the VPC cannot reach the cache',
      );
    }
    this.connections.allowDefaultPortFrom(fn, `${this.engineName} cache clients: ${fn.node.id}`.slice(0, 255));

    if (this.iamUserId && this.iamUserArn) {
      // Both ARNs are required: the token names the user, the connection names the cache.
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['elasticache:Connect'], resources: [this.cacheArn, this.iamUserArn] }),
      );
    }

    fn.addEnvironment(DATA_CACHE_ENV.engine, this.engineName);
    fn.addEnvironment(DATA_CACHE_ENV.endpoint, `${this.endpointAddress}:${this.endpointPort}`);
    fn.addEnvironment(DATA_CACHE_ENV.tls, 'true');
    fn.addEnvironment(DATA_CACHE_ENV.auth, this.iamUserId ? 'iam' : 'none');
    fn.addEnvironment(DATA_CACHE_ENV.name, this.cacheName);
    if (this.iamUserId) fn.addEnvironment(DATA_CACHE_ENV.user, this.iamUserId);
  }

  /**
   * The cache gets `removalPolicy`. When it is retained, so is what it keeps using (users,
   * user group, secret, subnet and parameter groups, security group): CloudFormation cannot
   * delete them while the cache uses them, and the stack deletion would fail.
   */
  private applyRemovalPolicies(cache: CfnResource): void {
    const policy = this.settings.removalPolicy;
    cache.applyRemovalPolicy(policy);
    if (policy !== RemovalPolicy.RETAIN && policy !== RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE) return;
    for (const construct of this.node.findAll()) {
      if (construct instanceof CfnResource && RETAINED_WITH_CACHE.includes(construct.cfnResourceType) && construct !== cache) {
        construct.applyRemovalPolicy(policy);
      }
    }
  }

  private buildServerless(o: ResolvedServerless, subnetIds: string[], encryptionKey?: kms.IKey): BuiltCache {
    // ElastiCache Serverless listens on 6379 (and 6380 for the reader endpoint, unused here); not configurable.
    const port = 6379;
    const securityGroup = this.newSecurityGroup(port);
    const auth = this.newIamAuth(SECURE_SERVERLESS.engine);
    const cacheName = auth.baseName;

    const resource = new elasticache.CfnServerlessCache(this, 'Cache', {
      ...SECURE_SERVERLESS,
      serverlessCacheName: cacheName,
      description: `Data cache ${this.node.path}`.slice(0, 255),
      majorEngineVersion: o.majorEngineVersion,
      cacheUsageLimits: serverlessUsageLimits(o),
      kmsKeyId: encryptionKey?.keyArn,
      subnetIds,
      securityGroupIds: [securityGroup.securityGroupId],
      userGroupId: auth.userGroup.userGroupId,
    });
    resource.addResourceDependency(auth.userGroup);

    return {
      resource,
      securityGroup,
      port,
      user: auth.user,
      cacheName,
      cacheArn: resource.attrArn,
      endpointAddress: resource.attrEndpointAddress,
      endpointPort: resource.attrEndpointPort,
    };
  }

  private buildReplicationGroup(o: ResolvedReplicationGroup, subnetIds: string[], encryptionKey?: kms.IKey): BuiltCache {
    const securityGroup = this.newSecurityGroup(o.port);
    const auth = this.newIamAuth(o.engine);
    const slowLogGroup = this.newLogGroup('SlowLog');

    const resource = new elasticache.CfnReplicationGroup(this, 'Cache', {
      ...SECURE_REPLICATION_GROUP,
      replicationGroupDescription: `Data cache ${this.node.path}`.slice(0, 255),
      engine: o.engine,
      engineVersion: o.engineVersion,
      cacheNodeType: o.cacheNodeType,
      numCacheClusters: o.numCacheClusters,
      port: o.port,
      snapshotRetentionLimit: o.snapshotRetentionDays,
      kmsKeyId: encryptionKey?.keyArn,
      cacheSubnetGroupName: this.newSubnetGroup(subnetIds).ref,
      securityGroupIds: [securityGroup.securityGroupId],
      userGroupIds: [auth.userGroup.userGroupId],
      cacheParameterGroupName: o.parameters ? this.newParameterGroup(o.engine, o.engineVersion, o.parameters).ref : undefined,
      logDeliveryConfigurations: [
        {
          ...SLOW_LOG_DELIVERY,
          destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLogGroup.logGroupName } },
        },
      ],
    });
    resource.addResourceDependency(auth.userGroup);
    // IAM authentication through a user group is stronger than the AUTH token AEC6 asks for;
    // the rule only recognises AuthToken.
    acknowledge(
      resource,
      'AwsSolutions-AEC6',
      'Clients authenticate with short-lived IAM tokens through an ElastiCache user group (IAM user, default user switched off), ' +
      'which is stronger than a shared AUTH token; the rule only recognises AuthToken.',
    );

    // Ref of a replication group is its id, the host IAM tokens are signed for.
    const cacheName = resource.ref;
    return {
      resource,
      securityGroup,
      port: o.port,
      user: auth.user,
      cacheName,
      cacheArn: this.elastiCacheArn('replicationgroup', cacheName),
      endpointAddress: resource.attrPrimaryEndPointAddress,
      endpointPort: resource.attrPrimaryEndPointPort,
      slowLogGroup,
    };
  }

  private buildMemcached(o: ResolvedMemcached, subnetIds: string[]): BuiltCache {
    const securityGroup = this.newSecurityGroup(o.port);

    // Memcached has no IAM authentication, and SASL would mean a shared password to distribute:
    // the cache is reachable only from granted security groups, and only over TLS.
    const resource = new elasticache.CfnCacheCluster(this, 'Cache', {
      ...SECURE_MEMCACHED,
      engineVersion: o.engineVersion,
      cacheNodeType: o.cacheNodeType,
      numCacheNodes: o.numCacheNodes,
      port: o.port,
      azMode: o.numCacheNodes > 1 ? 'cross-az' : 'single-az',
      cacheSubnetGroupName: this.newSubnetGroup(subnetIds).ref,
      vpcSecurityGroupIds: [securityGroup.securityGroupId],
    });

    const cacheName = resource.ref;
    return {
      resource,
      securityGroup,
      port: o.port,
      cacheName,
      cacheArn: this.elastiCacheArn('cluster', cacheName),
      endpointAddress: resource.attrConfigurationEndpointAddress,
      endpointPort: resource.attrConfigurationEndpointPort,
    };
  }

  /**
   * The IAM-authenticated application user, a switched-off `default` user replacing the
   * engine's built-in one (which would otherwise accept unauthenticated connections), and the
   * user group that holds them.
   */
  private newIamAuth(engine: ReplicationGroupEngine): IamAuth {
    const baseName = elastiCacheId(this, DATA_CACHE_LIMITS.idMaxLength - '-default'.length);

    // IAM authentication requires user id == user name.
    const appUserId = `${baseName}-app`;
    const user = new elasticache.CfnUser(this, 'IamUser', {
      engine,
      userId: appUserId,
      userName: appUserId,
      accessString: this.settings.accessString,
      authenticationMode: { Type: 'iam' },
    });

    const defaultUserPassword = new secretsmanager.Secret(this, 'DefaultUserPassword', {
      description: `Password of the switched-off "default" user of ${this.node.path}; no client uses it`,
      generateSecretString: { ...DEFAULT_USER_PASSWORD },
      // Secrets cannot be snapshotted; after the cache's final snapshot the secret has no use.
      removalPolicy: this.settings.removalPolicy === RemovalPolicy.SNAPSHOT ? RemovalPolicy.DESTROY : this.settings.removalPolicy,
    });
    acknowledge(
      defaultUserPassword,
      'AwsSolutions-SMG4',
      'Password of the ElastiCache "default" user, which is switched off (access string "off -@all") and cannot authenticate; ' +
      'it exists because a user group needs a "default" user with an authentication mode. ' +
      'Rotating a credential nobody can use would only add a rotation function with network access to the cache.',
    );
    const defaultUser = new elasticache.CfnUser(this, 'DefaultUser', {
      engine,
      userId: `${baseName}-default`,
      userName: 'default',
      accessString: DISABLED_DEFAULT_USER_ACCESS_STRING,
      authenticationMode: {
        Type: 'password',
        // A {{resolve:secretsmanager:…}} dynamic reference: the password never enters the template.
        Passwords: [defaultUserPassword.secretValue.unsafeUnwrap()],
      },
    });

    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine,
      userGroupId: `${baseName}-users`,
      // Ids are plain strings (not Refs): the dependencies say the users come first.
      userIds: [user.userId, defaultUser.userId],
    });
    userGroup.addResourceDependency(user);
    userGroup.addResourceDependency(defaultUser);

    return { baseName, user, userGroup };
  }

  private newIsolatedVpc(flowLogGroup: logs.ILogGroup): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: DEFAULT_NETWORK.maxAzs,
      natGateways: DEFAULT_NETWORK.natGateways,
      subnetConfiguration: [
        { name: 'Isolated', subnetType: DEFAULT_NETWORK.subnetType, cidrMask: DEFAULT_NETWORK.cidrMask },
      ],
      restrictDefaultSecurityGroup: DEFAULT_NETWORK.restrictDefaultSecurityGroup,
      flowLogs: {
        FlowLog: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          trafficType: DEFAULT_NETWORK.flowLogTrafficType,
        },
      },
      // Functions in isolated subnets reach DynamoDB without a NAT gateway.
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    removeRedundantProviderDependency(Stack.of(this));
    return vpc;
  }

  /** Subnet ids of the cache, checked to span enough Availability Zones for the engine. */
  private selectCacheSubnets(engine: ResolvedEngine): string[] {
    const selected = this.vpc.selectSubnets(this.functionSubnets);
    const azCount = new Set(selected.availabilityZones).size;
    const needed = engine.name === 'memcached' && engine.options.numCacheNodes === 1 ? 1 : 2;
    if (azCount < needed) {
      throw new DataCacheValidationError(
        `vpcSubnets must select subnets in at least ${needed} Availability Zones for a ${engine.name} cache (got ${azCount})`,
      );
    }
    return selected.subnetIds;
  }

  private newSecurityGroup(port: number): ec2.SecurityGroup {
    return new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      // A cache answers on the connections it receives; it never opens one.
      allowAllOutbound: false,
      description: `${this.engineName} data cache: TCP ${port} from granted functions only`,
    });
  }

  private newSubnetGroup(subnetIds: string[]): elasticache.CfnSubnetGroup {
    return new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Data cache ${this.node.path}`.slice(0, 255),
      subnetIds,
    });
  }

  private newParameterGroup(
    engine: ReplicationGroupEngine,
    engineVersion: string,
    parameters: { readonly [name: string]: string },
  ): elasticache.CfnParameterGroup {
    // Families of the versions accepted here (Valkey 7.2+, Redis OSS 7+) are `<engine><major>`.
    const family = `${engine}${parseVersion(engineVersion)[0]}`;
    return new elasticache.CfnParameterGroup(this, 'ParameterGroup', {
      cacheParameterGroupFamily: family,
      description: `Data cache ${this.node.path}`.slice(0, 255),
      properties: { ...parameters },
    });
  }

  /** A log group encrypted with this construct's key, with retention. */
  private newLogGroup(id: string): logs.LogGroup {
    return new logs.LogGroup(this, id, {
      encryptionKey: this.logEncryptionKey(),
      retention: this.settings.logRetention,
      removalPolicy: this.settings.logRemovalPolicy,
    });
  }

  private logEncryptionKey(): kms.Key {
    if (this.logKey) return this.logKey;
    const stack = Stack.of(this);
    this.logKey = new kms.Key(this, 'LogKey', {
      description: `Encrypts the logs of ${this.node.path}`,
      enableKeyRotation: true,
      // The key must live as long as the logs it encrypts.
      removalPolicy: this.settings.logRemovalPolicy,
    });
    this.logKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        // Only on behalf of log groups of this account and region.
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return this.logKey;
  }

  private elastiCacheArn(resource: string, name: string): string {
    return Stack.of(this).formatArn({
      service: 'elasticache',
      resource,
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}

type ResolvedServerless = ValkeyServerlessOptions & { readonly majorEngineVersion: string };
type ResolvedReplicationGroup = Required<Omit<ReplicationGroupOptions, 'parameters'>> & Pick<ReplicationGroupOptions, 'parameters'>;
type ResolvedMemcached = Required<MemcachedOptions>;

/** The engine with every default applied and every setting validated. */
type ResolvedEngine =
  | { readonly name: 'valkey-serverless'; readonly options: ResolvedServerless }
  | { readonly name: 'redis'; readonly options: ResolvedReplicationGroup }
  | { readonly name: 'memcached'; readonly options: ResolvedMemcached };

function resolveEngine(engine: DataCacheEngine): ResolvedEngine {
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

/** Resource types a retained cache keeps using. */
const RETAINED_WITH_CACHE = [
  'AWS::ElastiCache::User',
  'AWS::ElastiCache::UserGroup',
  'AWS::ElastiCache::SubnetGroup',
  'AWS::ElastiCache::ParameterGroup',
  'AWS::SecretsManager::Secret',
  'AWS::EC2::SecurityGroup',
];

interface IamAuth {
  /** Unique lowercase prefix of the cache's ElastiCache ids. */
  readonly baseName: string;
  readonly user: elasticache.CfnUser;
  readonly userGroup: elasticache.CfnUserGroup;
}

interface BuiltCache {
  readonly resource: CfnResource;
  readonly securityGroup: ec2.SecurityGroup;
  readonly port: number;
  readonly user?: elasticache.CfnUser;
  readonly cacheName: string;
  readonly cacheArn: string;
  readonly endpointAddress: string;
  readonly endpointPort: string;
  readonly slowLogGroup?: logs.ILogGroup;
}

/** Isolated subnets when the VPC has some; otherwise private ones (never public). */
function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return {
    subnetType: vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
  };
}

/**
 * An ElastiCache id unique in the app: lowercase letters, digits and single hyphens, starting
 * with a letter (the rules of cache names, user ids and user group ids).
 */
function elastiCacheId(scope: Construct, maxLength: number): string {
  const id = Names.uniqueResourceName(scope, { maxLength, separator: '-' })
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/-$/, '');
  return /^[a-z]/.test(id) ? id : `c${id}`.slice(0, maxLength);
}

/**
 * The VPC's default-security-group custom resource provider (a stack singleton) gives its
 * handler a DependsOn on its role that the handler's `Fn::GetAtt` on the role already
 * implies (cfn-lint W3005). Dropping the duplicate edge changes no deployment order.
 */
function removeRedundantProviderDependency(stack: Stack): void {
  const provider = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler');
  const role = provider?.node.tryFindChild('Role');
  if (handler instanceof CfnResource && role instanceof CfnResource) {
    handler.removeResourceDependency(role);
  }
}

function serverlessUsageLimits(o: ValkeyServerlessOptions): elasticache.CfnServerlessCache.CacheUsageLimitsProperty | undefined {
  if (o.maxDataStorageGb === undefined && o.maxEcpuPerSecond === undefined) return undefined;
  return {
    dataStorage: o.maxDataStorageGb === undefined ? undefined : { maximum: o.maxDataStorageGb, unit: 'GB' },
    ecpuPerSecond: o.maxEcpuPerSecond === undefined ? undefined : { maximum: o.maxEcpuPerSecond },
  };
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

function parseVersion(version: string): number[] {
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

function validateCommonProps(engine: DataCacheEngine, props: DataCacheProps, removalPolicy: RemovalPolicy): void {
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
