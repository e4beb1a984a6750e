import { App, CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';
import { DATA_CACHE_ENV, DataCache, DataCacheEngine, DataCacheProps } from '../lib/data-cache/data-cache';
import { DEFAULT_ACCESS_STRING } from '../lib/data-cache/data-cache-defaults';
import * as runtimeEnv from '../lambda/runtime/cache/env';
import { nagApp, synthFindings, testOutdir } from './support/nag';
import { normalizedTemplate } from './support/template';

// ---------------------------------------------------------------------------------------
// Fixtures: one stack per engine, synthesized once (template only: nagApp skips bundling).

interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly cache: DataCache;
  readonly fn: lambda.Function;
  readonly findings: string[];
  readonly template: Template;
}

/**
 * A function in the cache's VPC, granted access to it. It is only a stand-in: its own cdk-nag
 * findings are the fixture's business, not the construct's, and are acknowledged here.
 */
function grantedClient(stack: Stack, cache: DataCache): lambda.Function {
  const fn = new lambda.Function(stack, 'Client', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    memorySize: 256,
    timeout: Duration.seconds(10),
    vpc: cache.vpc,
    vpcSubnets: cache.functionSubnets,
    // An imported log group: with cdk init's useCdkManagedLogGroup flag a plain Function would
    // create its own, and the fixture must not add resources to the construct's counts.
    logGroup: logs.LogGroup.fromLogGroupName(stack, 'ClientLogs', '/aws/lambda/data-cache-test-client'),
  });
  const reason = 'Test fixture: a stand-in function that only receives DataCache.grantConnect().';
  Validations.of(fn).acknowledge(
    { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason },
    { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]', reason },
    { id: 'AwsSolutions-L1', reason },
    { id: 'Serverless-LambdaDLQ', reason },
    { id: 'Serverless-LambdaLatestVersion', reason },
    { id: 'Serverless-LambdaTracing', reason },
  );
  cache.grantConnect(fn);
  // lambda.Function depends on its role (and, through it, on the role's policy), but its
  // `Role: Fn::GetAtt` already implies the first (cfn-lint W3005): keep only the policy.
  const resource = fn.node.defaultChild as lambda.CfnFunction;
  resource.node.removeDependency(fn.role!);
  const policy = fn.role!.node.tryFindChild('DefaultPolicy'); // none when nothing was granted (Memcached)
  if (policy) resource.node.addDependency(policy);
  return fn;
}

/** Synthesizes (with cdk-nag) a stack holding `DataCache` and a granted function. */
function synthesize(props: DataCacheProps | ((stack: Stack) => DataCacheProps), buildExtra?: (stack: Stack) => void): Fixture {
  const app = nagApp();
  const stack = new Stack(app, 'CacheStack');
  const cache = new DataCache(stack, 'DataCache', typeof props === 'function' ? props(stack) : props);
  const fn = grantedClient(stack, cache);
  buildExtra?.(stack);
  const findings = synthFindings(app);
  return { app, stack, cache, fn, findings, template: Template.fromStack(stack) };
}

/**
 * Every cdk-nag acknowledgement under `scope`, as `<path in the stack> <rule id>` (CDK's own
 * constructs acknowledge some of its built-in CloudFormation checks: not ours, left out).
 */
function nagAcknowledgements(scope: IConstruct): string[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as object))
      .filter((id) => /AwsSolutions-|Serverless-/.test(id))
      .map((id) => `${c.node.path.replace(/^CacheStack\//, '')} ${id}`),
  );
}

/** Logical id of an L2 construct's resource. */
function logicalIdOf(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

const serverless = synthesize({});
const replicationGroup = synthesize({ engine: DataCacheEngine.replicationGroup() });
const memcached = synthesize({ engine: DataCacheEngine.memcached() });

// ---------------------------------------------------------------------------------------
// What every engine shares: the network, the security group, the grant.

describe.each([
  ['valkey serverless', serverless, 6379],
  ['replication group', replicationGroup, 6380],
  ['memcached', memcached, 11212],
])('DataCache (%s)', (_name, fixture, port) => {
  const { stack, template, cache, fn } = fixture;

  test('has no unacknowledged cdk-nag finding', () => {
    expect(fixture.findings).toEqual([]);
  });

  test('matches the snapshot', () => {
    expect(normalizedTemplate(stack)).toMatchSnapshot();
  });

  test('creates an isolated VPC: isolated subnets in 2 AZs, no internet or NAT gateway, no route out', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
    template.resourceCountIs('AWS::EC2::Route', 0);
    expect(cache.functionSubnets).toEqual({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
  });

  test('logs all VPC traffic to a KMS-encrypted log group with retention', () => {
    const flowLogs = cache.flowLogGroup!;
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: logicalIdOf(stack, flowLogs) },
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { KmsKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }, RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 365 });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('routes DynamoDB through a gateway endpoint on both isolated route tables', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
      RouteTableIds: [{ Ref: Match.stringLikeRegexp('IsolatedSubnet1RouteTable') }, { Ref: Match.stringLikeRegexp('IsolatedSubnet2RouteTable') }],
    });
  });

  test("closes the VPC's default security group", () => {
    template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });

  test('security group: no egress, ingress only from the granted function on the cache port', () => {
    const cacheSg = logicalIdOf(stack, cache.securityGroup);
    const fnSg = logicalIdOf(stack, fn.connections.securityGroups[0]);
    const cacheSgResource = template.findResources('AWS::EC2::SecurityGroup')[cacheSg];
    expect(cacheSgResource.Properties.SecurityGroupIngress).toBeUndefined();
    expect(cacheSgResource.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' }),
    ]);
    expect(Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          GroupId: { 'Fn::GetAtt': [cacheSg, 'GroupId'] },
          SourceSecurityGroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: port,
          ToPort: port,
        }),
      }),
    ]);
    expect(cache.port).toBe(port);
  });

  test('tells the function how to connect (TLS always)', () => {
    const variables = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: Match.anyValue() },
    });
    const env = Object.values(variables)[0].Properties.Environment.Variables;
    expect(env).toMatchObject({
      [DATA_CACHE_ENV.engine]: cache.engineName,
      [DATA_CACHE_ENV.tls]: 'true',
      [DATA_CACHE_ENV.endpoint]: { 'Fn::Join': ['', [expect.anything(), ':', expect.anything()]] },
    });
    expect(stack.resolve(env[DATA_CACHE_ENV.name])).toEqual(stack.resolve(cache.cacheName));
  });

  test('applies the removal policy to the cache explicitly (cfn-lint I3011)', () => {
    const cacheId = stack.getLogicalId(cache.cacheResource);
    const resource = template.toJSON().Resources[cacheId];
    expect(resource).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });
});

test('speaks the runtime\'s environment contract (lambda/runtime/cache/env.ts)', () => {
  expect(runtimeEnv.DATA_CACHE_ENV_NAMES).toEqual(expect.arrayContaining(Object.values(DATA_CACHE_ENV)));
  for (const { cache } of [serverless, replicationGroup, memcached]) {
    expect(runtimeEnv.DATA_CACHE_ENGINES).toContain(cache.engineName);
  }
});

// ---------------------------------------------------------------------------------------
// Engine by engine.

describe('DataCache (valkey serverless, the default)', () => {
  const { stack, template, cache, fn } = serverless;

  test('is a Valkey serverless cache in the isolated subnets, behind the security group, with the user group', () => {
    template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      MajorEngineVersion: '8',
      ServerlessCacheName: cache.cacheName,
      SubnetIds: [{ Ref: Match.stringLikeRegexp('IsolatedSubnet1Subnet') }, { Ref: Match.stringLikeRegexp('IsolatedSubnet2Subnet') }],
      SecurityGroupIds: [{ 'Fn::GetAtt': [logicalIdOf(stack, cache.securityGroup), 'GroupId'] }],
      UserGroupId: `${cache.cacheName}-users`,
      CacheUsageLimits: Match.absent(),
    });
    expect(cache.engineName).toBe('valkey-serverless');
  });

  test('authenticates with IAM: an IAM user, a switched-off default user with a generated password, a user group', () => {
    expectIamAuth(template, cache, 'valkey');
  });

  test('grants elasticache:Connect on the cache and the user only', () => {
    expectConnectPolicy(template, [
      { 'Fn::GetAtt': [stack.getLogicalId(cache.cacheResource), 'ARN'] },
      { 'Fn::GetAtt': [Match.stringLikeRegexp('IamUser'), 'Arn'] },
    ]);
  });

  test('sets the serverless endpoint and IAM settings on the function', () => {
    expectEnvironment(template, fn, stack, {
      DATA_CACHE_ENGINE: 'valkey-serverless',
      DATA_CACHE_AUTH: 'iam',
      DATA_CACHE_USER: `${cache.cacheName}-app`,
      DATA_CACHE_NAME: cache.cacheName,
      DATA_CACHE_ENDPOINT: {
        'Fn::Join': [
          '',
          [
            { 'Fn::GetAtt': [stack.getLogicalId(cache.cacheResource), 'Endpoint.Address'] },
            ':',
            { 'Fn::GetAtt': [stack.getLogicalId(cache.cacheResource), 'Endpoint.Port'] },
          ],
        ],
      },
    });
  });

  test('has a valid, unique, lowercase ElastiCache name', () => {
    expect(cache.cacheName).toMatch(/^[a-z][a-z0-9-]{0,31}$/);
    expect(cache.cacheName).not.toMatch(/--|-$/);
  });

  test('acknowledges nothing but the unused default-user password rotation', () => {
    expect(nagAcknowledgements(cache)).toEqual(['DataCache/DefaultUserPassword Annotation::AwsSolutions-SMG4']);
  });
});

describe('DataCache (replication group)', () => {
  const { stack, template, cache, fn } = replicationGroup;
  const rgId = stack.getLogicalId(cache.cacheResource);

  test('is a Multi-AZ, failover-enabled, encrypted (at rest and in transit, TLS required) Valkey group on a non-default port', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheNodeType: 'cache.t4g.small',
      NumCacheClusters: 2,
      Port: 6380,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      SnapshotRetentionLimit: 0,
      AuthToken: Match.absent(),
      UserGroupIds: [`${cache.iamUserId!.replace(/-app$/, '')}-users`],
      SecurityGroupIds: [{ 'Fn::GetAtt': [logicalIdOf(stack, cache.securityGroup), 'GroupId'] }],
      CacheSubnetGroupName: { Ref: Match.stringLikeRegexp('SubnetGroup') },
      CacheParameterGroupName: Match.absent(),
    });
    expect(cache.engineName).toBe('redis');
  });

  test('places its subnet group in the isolated subnets', () => {
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: [{ Ref: Match.stringLikeRegexp('IsolatedSubnet1Subnet') }, { Ref: Match.stringLikeRegexp('IsolatedSubnet2Subnet') }],
    });
  });

  test('delivers the slow log to its encrypted log group', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      LogDeliveryConfigurations: [
        {
          DestinationType: 'cloudwatch-logs',
          LogFormat: 'json',
          LogType: 'slow-log',
          DestinationDetails: { CloudWatchLogsDetails: { LogGroup: { Ref: logicalIdOf(stack, cache.slowLogGroup!) } } },
        },
      ],
    });
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
  });

  test('authenticates with IAM: an IAM user, a switched-off default user with a generated password, a user group', () => {
    expectIamAuth(template, cache, 'valkey');
  });

  test('grants elasticache:Connect on the replication group and the user only', () => {
    expectConnectPolicy(template, [
      {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':replicationgroup:', { Ref: rgId }],
        ],
      },
      { 'Fn::GetAtt': [Match.stringLikeRegexp('IamUser'), 'Arn'] },
    ]);
  });

  test('sets the primary endpoint and IAM settings on the function', () => {
    expectEnvironment(template, fn, stack, {
      DATA_CACHE_ENGINE: 'redis',
      DATA_CACHE_AUTH: 'iam',
      DATA_CACHE_USER: cache.iamUserId,
      DATA_CACHE_NAME: { Ref: rgId },
      DATA_CACHE_ENDPOINT: {
        'Fn::Join': ['', [{ 'Fn::GetAtt': [rgId, 'PrimaryEndPoint.Address'] }, ':', { 'Fn::GetAtt': [rgId, 'PrimaryEndPoint.Port'] }]],
      },
    });
  });

  test('acknowledges AEC6 on the replication group only, with the IAM reason', () => {
    expect(nagAcknowledgements(cache).sort()).toEqual([
      'DataCache/Cache Annotation::AwsSolutions-AEC6',
      'DataCache/DefaultUserPassword Annotation::AwsSolutions-SMG4',
    ]);
    const aec6 = cache.cacheResource.node.metadata.find((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(Object.values(aec6!.data as object)[0]).toMatch(/IAM tokens/);
  });
});

describe('DataCache (memcached)', () => {
  const { stack, template, cache, fn } = memcached;
  const clusterId = stack.getLogicalId(cache.cacheResource);

  test('is a TLS Memcached cluster across AZs on a non-default port', () => {
    template.hasResourceProperties('AWS::ElastiCache::CacheCluster', {
      Engine: 'memcached',
      EngineVersion: '1.6.22',
      TransitEncryptionEnabled: true,
      NumCacheNodes: 2,
      AZMode: 'cross-az',
      Port: 11212,
      CacheSubnetGroupName: { Ref: Match.stringLikeRegexp('SubnetGroup') },
      VpcSecurityGroupIds: [{ 'Fn::GetAtt': [logicalIdOf(stack, cache.securityGroup), 'GroupId'] }],
    });
  });

  test('has no users (Memcached has no IAM auth) and grants no IAM permission', () => {
    template.resourceCountIs('AWS::ElastiCache::User', 0);
    template.resourceCountIs('AWS::ElastiCache::UserGroup', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('elasticache:');
    expect(cache.iamUserId).toBeUndefined();
  });

  test('sets the configuration endpoint, no auth and no user on the function', () => {
    const env = expectEnvironment(template, fn, stack, {
      DATA_CACHE_ENGINE: 'memcached',
      DATA_CACHE_AUTH: 'none',
      DATA_CACHE_NAME: { Ref: clusterId },
      DATA_CACHE_ENDPOINT: {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [clusterId, 'ConfigurationEndpoint.Address'] }, ':', { 'Fn::GetAtt': [clusterId, 'ConfigurationEndpoint.Port'] }],
        ],
      },
    });
    expect(env).not.toHaveProperty(DATA_CACHE_ENV.user);
  });

  test('acknowledges nothing', () => {
    expect(nagAcknowledgements(cache)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// An existing VPC, and the non-default settings, in one stack.

/**
 * An existing VPC holding a replication group with every setting changed, plus a serverless
 * cache with usage limits and a single-node Memcached cluster.
 */
function synthesizeInExistingVpc(): Fixture & { readonly key: kms.Key } {
  let vpc: ec2.IVpc | undefined;
  let key: kms.Key | undefined;
  const fixture = synthesize(
    (stack) => {
      vpc = ec2.Vpc.fromVpcAttributes(stack, 'ExistingVpc', {
        vpcId: 'vpc-0e1e2e3e4e5e6e7e8',
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        isolatedSubnetIds: ['subnet-0a0a0a0a0a0a0a0a0', 'subnet-0b0b0b0b0b0b0b0b0'],
        isolatedSubnetNames: ['Data'],
        isolatedSubnetRouteTableIds: ['rtb-0a0a0a0a0a0a0a0a0', 'rtb-0b0b0b0b0b0b0b0b0'],
      });
      key = new kms.Key(stack, 'CacheKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
      return {
        engine: DataCacheEngine.replicationGroup({
          engine: 'redis',
          engineVersion: '7.1',
          numCacheClusters: 3,
          port: 7000,
          snapshotRetentionDays: 7,
          parameters: { 'maxmemory-policy': 'volatile-lru' },
        }),
        vpc,
        vpcSubnets: { subnetGroupName: 'Data' },
        encryptionKey: key,
        removalPolicy: RemovalPolicy.SNAPSHOT,
        accessString: 'on ~app:* -@all +@read +@write +@connection',
      };
    },
    (stack) => {
      new DataCache(stack, 'Limited', {
        vpc,
        engine: DataCacheEngine.valkeyServerless({ maxDataStorageGb: 10, maxEcpuPerSecond: 5000 }),
      });
      new DataCache(stack, 'SingleNode', { vpc, engine: DataCacheEngine.memcached({ numCacheNodes: 1 }) });
    },
  );
  return { ...fixture, key: key! };
}

const inExistingVpc = synthesizeInExistingVpc();

describe('DataCache in an existing VPC', () => {
  const fixture = inExistingVpc;
  const { stack, template, cache, key } = fixture;

  test('has no unacknowledged cdk-nag finding', () => {
    expect(fixture.findings).toEqual([]);
  });

  test('matches the snapshot', () => {
    expect(normalizedTemplate(stack)).toMatchSnapshot();
  });

  test('creates no network of its own and uses the selected subnets', () => {
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: ['subnet-0a0a0a0a0a0a0a0a0', 'subnet-0b0b0b0b0b0b0b0b0'] });
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { SubnetIds: ['subnet-0a0a0a0a0a0a0a0a0', 'subnet-0b0b0b0b0b0b0b0b0'] });
    template.allResourcesProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0e1e2e3e4e5e6e7e8' });
    expect(cache.functionSubnets).toEqual({ subnetGroupName: 'Data' });
  });

  test('applies the settings: Redis OSS 7.1, 3 nodes, port 7000, snapshots, parameters, key, removal policy, access string', () => {
    template.hasResource('AWS::ElastiCache::ReplicationGroup', {
      Properties: {
        Engine: 'redis',
        EngineVersion: '7.1',
        NumCacheClusters: 3,
        Port: 7000,
        SnapshotRetentionLimit: 7,
        KmsKeyId: { 'Fn::GetAtt': [logicalIdOf(stack, key), 'Arn'] },
        CacheParameterGroupName: { Ref: Match.stringLikeRegexp('ParameterGroup') },
      },
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'redis7',
      Properties: { 'maxmemory-policy': 'volatile-lru' },
    });
    expectIamAuth(template, cache, 'redis', 'on ~app:* -@all +@read +@write +@connection');
  });

  test('renders serverless usage limits', () => {
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      CacheUsageLimits: { DataStorage: { Maximum: 10, Unit: 'GB' }, ECPUPerSecond: { Maximum: 5000 } },
    });
  });

  test('keeps a single Memcached node in one AZ', () => {
    template.hasResourceProperties('AWS::ElastiCache::CacheCluster', { NumCacheNodes: 1, AZMode: 'single-az' });
  });

  test('retains what a retained cache keeps using', () => {
    const stack2 = new Stack(new App({ builtinCloudFormationValidation: false, outdir: testOutdir() }), 'Retained');
    const retainedVpc = ec2.Vpc.fromVpcAttributes(stack2, 'Vpc', {
      vpcId: 'vpc-0e1e2e3e4e5e6e7e8',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      isolatedSubnetIds: ['subnet-0a0a0a0a0a0a0a0a0', 'subnet-0b0b0b0b0b0b0b0b0'],
      isolatedSubnetRouteTableIds: ['rtb-0a0a0a0a0a0a0a0a0', 'rtb-0b0b0b0b0b0b0b0b0'],
    });
    new DataCache(stack2, 'Cache', { vpc: retainedVpc, removalPolicy: RemovalPolicy.RETAIN });
    const retained = Template.fromStack(stack2);
    for (const type of ['AWS::ElastiCache::ServerlessCache', 'AWS::ElastiCache::User', 'AWS::ElastiCache::UserGroup', 'AWS::SecretsManager::Secret', 'AWS::EC2::SecurityGroup']) {
      retained.allResources(type, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  test('picks the private subnets of a VPC without isolated ones', () => {
    const stack2 = new Stack(new App(), 'PrivateOnly');
    const privateVpc = ec2.Vpc.fromVpcAttributes(stack2, 'Vpc', {
      vpcId: 'vpc-private',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-p1', 'subnet-p2'],
      privateSubnetRouteTableIds: ['rtb-p1', 'rtb-p2'],
    });
    const privateCache = new DataCache(stack2, 'Cache', { vpc: privateVpc });
    expect(privateCache.functionSubnets).toEqual({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  });
});

// ---------------------------------------------------------------------------------------
// Invalid props throw at construction, naming the prop and the allowed range.

describe('DataCache in an environment-specific stack', () => {
  test('synthesizes its default VPC without a context lookup (no credentials needed), in the first two AZs of the region', () => {
    const app = new App();
    const stack = new Stack(app, 'Pinned', { env: { account: '123456789012', region: 'eu-west-1' } });
    new DataCache(stack, 'Cache');
    expect(app.synth().manifest.missing ?? []).toEqual([]);
    const template = Template.fromStack(stack);
    const zones = Object.values(template.findResources('AWS::EC2::Subnet')).map((subnet) => subnet.Properties.AvailabilityZone);
    expect(zones).toEqual([0, 1].map((index) => ({ 'Fn::Select': [index, { 'Fn::GetAZs': '' }] })));
  });

  test('keeps the zones a context lookup already recorded (cdk.context.json), so deployed subnets stay put', () => {
    const app = new App({ context: { 'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] } });
    const stack = new Stack(app, 'Pinned', { env: { account: '123456789012', region: 'eu-west-1' } });
    new DataCache(stack, 'Cache');
    const zones = Object.values(Template.fromStack(stack).findResources('AWS::EC2::Subnet')).map((subnet) => subnet.Properties.AvailabilityZone);
    expect(zones).toEqual(['eu-west-1a', 'eu-west-1b']);
  });
});

describe('DataCache rejects invalid props', () => {
  function construct(props: DataCacheProps): void {
    new DataCache(new Stack(new App(), 'Invalid'), 'Cache', props);
  }
  const rg = (o: Parameters<typeof DataCacheEngine.replicationGroup>[0]) => ({ engine: DataCacheEngine.replicationGroup(o) });
  const mc = (o: Parameters<typeof DataCacheEngine.memcached>[0]) => ({ engine: DataCacheEngine.memcached(o) });
  const sl = (o: Parameters<typeof DataCacheEngine.valkeyServerless>[0]) => ({ engine: DataCacheEngine.valkeyServerless(o) });

  test.each<[string, DataCacheProps, RegExp]>([
    ['a single-node replication group', rg({ numCacheClusters: 1 }), /engine\.numCacheClusters must be an integer between 2 and 6 \(got 1\)/],
    ['too many replicas', rg({ numCacheClusters: 7 }), /engine\.numCacheClusters must be an integer between 2 and 6 \(got 7\)/],
    ['a fractional node count', rg({ numCacheClusters: 2.5 }), /engine\.numCacheClusters must be an integer between 2 and 6/],
    ['the default Redis port', rg({ port: 6379 }), /engine\.port must not be the engine's default port 6379 \(AwsSolutions-AEC5\)/],
    ['a privileged port', rg({ port: 80 }), /engine\.port must be an integer between 1024 and 65535 \(got 80\)/],
    ['a port out of range', rg({ port: 70000 }), /engine\.port must be an integer between 1024 and 65535 \(got 70000\)/],
    ['Redis OSS 6 (no IAM auth)', rg({ engine: 'redis', engineVersion: '6.2' }), /engine\.engineVersion must be 7\.0 or later \(IAM authentication.*redis\); got "6\.2"/],
    ['Valkey 7.1', rg({ engineVersion: '7.1' }), /engine\.engineVersion must be 7\.2 or later/],
    ['a version that is not one', rg({ engineVersion: 'latest' }), /engine\.engineVersion must be a version like "7\.2" \(got "latest"\)/],
    ['an unknown engine', rg({ engine: 'memcached' as never }), /engine\.engine must be "valkey" or "redis" \(got "memcached"\)/],
    ['a malformed node type', rg({ cacheNodeType: 't4g.small' }), /engine\.cacheNodeType must be a node type like "cache\.t4g\.small"/],
    ['snapshots kept too long', rg({ snapshotRetentionDays: 36 }), /engine\.snapshotRetentionDays must be an integer between 0 and 35 \(got 36\)/],
    ['an empty parameter list', rg({ parameters: {} }), /engine\.parameters must name at least one parameter/],
    ['Memcached without TLS support', mc({ engineVersion: '1.6.6' }), /engine\.engineVersion must be 1\.6\.12 or later \(in-transit encryption on Memcached\); got "1\.6\.6"/],
    ['no Memcached node', mc({ numCacheNodes: 0 }), /engine\.numCacheNodes must be an integer between 1 and 40 \(got 0\)/],
    ['too many Memcached nodes', mc({ numCacheNodes: 41 }), /engine\.numCacheNodes must be an integer between 1 and 40 \(got 41\)/],
    ['the default Memcached port', mc({ port: 11211 }), /engine\.port must not be the engine's default port 11211/],
    ['a serverless storage limit below 1 GB', sl({ maxDataStorageGb: 0 }), /engine\.maxDataStorageGb must be an integer between 1 and 5000 \(got 0\)/],
    ['a serverless storage limit above 5000 GB', sl({ maxDataStorageGb: 5001 }), /engine\.maxDataStorageGb must be an integer between 1 and 5000/],
    ['an ECPU limit below 1000', sl({ maxEcpuPerSecond: 999 }), /engine\.maxEcpuPerSecond must be an integer between 1000 and 15000000 \(got 999\)/],
    ['Valkey serverless 6', sl({ majorEngineVersion: '6' }), /engine\.majorEngineVersion must be a major version, 7 or later/],
    ['a key for Memcached', { ...mc({}), encryptionKey: {} as kms.IKey }, /encryptionKey is not supported by the memcached engine/],
    ['an access string for Memcached', { ...mc({}), accessString: 'on ~* +@all' }, /accessString is not supported by the memcached engine/],
    ['a switched-off application user', { accessString: 'off ~* +@all' }, /accessString must start with "on"/],
    ['SNAPSHOT on a serverless cache', { removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy RemovalPolicy\.SNAPSHOT is supported by the replicationGroup engine only \(got valkey-serverless\)/],
  ])('%s', (_name, props, message) => {
    expect(() => construct(props)).toThrow(message);
  });

  test('subnets in a single AZ', () => {
    const stack = new Stack(new App(), 'OneAz');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-one',
      availabilityZones: ['eu-west-1a'],
      isolatedSubnetIds: ['subnet-1'],
      isolatedSubnetRouteTableIds: ['rtb-1'],
    });
    expect(() => new DataCache(stack, 'Cache', { vpc })).toThrow(
      /vpcSubnets must select subnets in at least 2 Availability Zones for a valkey-serverless cache \(got 1\)/,
    );
  });

  test('public subnets, naming vpcSubnets', () => {
    const stack = new Stack(new App(), 'Public');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, maxAzs: 2, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
    expect(() => new DataCache(stack, 'Cache', { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } })).toThrow(
      /vpcSubnets must not select public subnets \(Public\/Vpc\/PublicSubnet1, Public\/Vpc\/PublicSubnet2\): a data cache is reachable only from inside the VPC; select PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS subnets/,
    );
  });

  test('grantConnect to a function outside the VPC', () => {
    const stack = new Stack(new App(), 'NoVpc');
    const cache = new DataCache(stack, 'Cache');
    const outside = new lambda.Function(stack, 'Outside', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    expect(() => cache.grantConnect(outside)).toThrow(/grantConnect\(NoVpc\/Outside\) needs a function in the cache's VPC/);
  });
});

// ---------------------------------------------------------------------------------------
// Helpers shared by the engine blocks.

function expectIamAuth(template: Template, cache: DataCache, engine: 'valkey' | 'redis', accessString = DEFAULT_ACCESS_STRING): void {
  const userId = cache.iamUserId!;
  const base = userId.replace(/-app$/, '');
  template.hasResourceProperties('AWS::ElastiCache::User', {
    Engine: engine,
    UserId: userId,
    UserName: userId,
    AuthenticationMode: { Type: 'iam' },
    AccessString: accessString,
  });
  template.hasResourceProperties('AWS::ElastiCache::User', {
    Engine: engine,
    UserId: `${base}-default`,
    UserName: 'default',
    AccessString: 'off -@all',
    AuthenticationMode: {
      Type: 'password',
      Passwords: [{ 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('DefaultUserPassword') }, ':SecretString:::}}']] }],
    },
  });
  // No user that connects without credentials.
  expect(JSON.stringify(template.findResources('AWS::ElastiCache::User'))).not.toMatch(/no-password|NoPasswordRequired/);
  template.hasResource('AWS::ElastiCache::UserGroup', {
    Properties: { Engine: engine, UserGroupId: `${base}-users`, UserIds: [userId, `${base}-default`] },
    DependsOn: [Match.stringLikeRegexp('DefaultUser'), Match.stringLikeRegexp('IamUser')],
  });
  template.hasResourceProperties('AWS::SecretsManager::Secret', {
    GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
  });
}

function expectConnectPolicy(template: Template, resources: unknown[]): void {
  // cdk init's minimizePolicies flag sorts a statement's resources: compare them as a set.
  const connect = Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement)
    .filter((statement: any) => statement.Action === 'elasticache:Connect');
  expect(connect).toHaveLength(1);
  expect(connect[0]).toEqual({ Action: 'elasticache:Connect', Effect: 'Allow', Resource: expect.any(Array) });
  expect(connect[0].Resource).toHaveLength(resources.length);
  for (const resource of resources) {
    const matcher = Match.objectLike(resource as Record<string, unknown>);
    expect(connect[0].Resource.some((actual: unknown) => !matcher.test(actual).hasFailed())).toBe(true);
  }
}

function expectEnvironment(template: Template, fn: lambda.Function, stack: Stack, expected: Record<string, unknown>): Record<string, unknown> {
  const functionId = logicalIdOf(stack, fn);
  const env = template.toJSON().Resources[functionId].Properties.Environment.Variables as Record<string, unknown>;
  expect(env).toEqual({ ...expected, DATA_CACHE_TLS: 'true' });
  return env;
}
