import { ArnFormat, CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  DEFAULT_DATA_CACHE,
  SECURE_MEMCACHED,
  SECURE_REPLICATION_GROUP,
  SECURE_SERVERLESS,
  SLOW_LOG_DELIVERY,
  withDefaults,
} from './data-cache-defaults';
import { defaultSubnets, newIsolatedVpc } from './data-cache-network';
import {
  DATA_CACHE_ENV,
  DataCacheEngine,
  DataCacheEngineName,
  DataCacheProps,
  DataCacheValidationError,
  ReplicationGroupEngine,
} from './data-cache-props';
import { BuiltCache, newIamAuth, RETAINED_WITH_CACHE, serverlessUsageLimits } from './data-cache-resources';
import {
  parseVersion,
  ResolvedEngine,
  ResolvedMemcached,
  ResolvedReplicationGroup,
  ResolvedServerless,
  resolveEngine,
  validateCommonProps,
} from './data-cache-validation';
import { acknowledge } from '../shared/nag';

// Props, engine choice and the runtime's environment contract live in their own file.
export * from './data-cache-props';

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
      this.vpc = newIsolatedVpc(this, flowLogGroup);
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
    const auth = newIamAuth(this, this.settings, SECURE_SERVERLESS.engine);
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
    const auth = newIamAuth(this, this.settings, o.engine);
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

  /** Subnet ids of the cache, checked to span enough Availability Zones for the engine. */
  private selectCacheSubnets(engine: ResolvedEngine): string[] {
    const selected = this.vpc.selectSubnets(this.functionSubnets);
    const publicSubnets = new Set(this.vpc.publicSubnets);
    const selectedPublic = selected.subnets.filter((subnet) => publicSubnets.has(subnet));
    if (selectedPublic.length > 0) {
      throw new DataCacheValidationError(
        `vpcSubnets must not select public subnets (${selectedPublic.map((subnet) => subnet.node.path).join(', ')}): ` +
          'a data cache is reachable only from inside the VPC; select PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS subnets',
      );
    }
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
