import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CacheSync, CacheSyncDataCache, edgePurgePaths } from '../lib/sync/cache-sync';
import { catalogRoutes } from '../lib/sample/catalog-routes';
import type { DataCache } from '../lib/data-cache/data-cache';
import { parseRouteTable } from '../lib/api/route-table';
import { CATALOG_DATA_PURGE } from '../lambda/catalog/cache-keys';
import { nagApp, synthFindings } from './support/nag';
import { requireBinary } from './support/servers';
import { normalizedTemplate } from './support/template';

// Compile-time check that lib/data-cache/data-cache.ts's DataCache plugs into CacheSync as is.
export const dataCacheFits = (cache: DataCache): CacheSyncDataCache => cache;

/** Stands in for DataCache: an isolated VPC with flow logs and a cache security group. */
class FakeDataCache extends Construct implements CacheSyncDataCache {
  readonly vpc: ec2.Vpc;
  readonly functionSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  readonly securityGroup: ec2.SecurityGroup;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      restrictDefaultSecurityGroup: false,
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
          ),
        },
      },
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'CacheSg', { vpc: this.vpc, allowAllOutbound: false, description: 'cache' });
  }
  grantConnect(fn: lambda.Function): void {
    this.securityGroup.connections.allowFrom(fn, ec2.Port.tcp(6379), 'cache clients');
    fn.addEnvironment('DATA_CACHE_ENGINE', 'valkey-serverless');
    fn.addEnvironment('DATA_CACHE_ENDPOINT', 'cache.example.internal:6379');
  }
}

// One synthesis for the file: the sample table and routes, an existing distribution, a data cache.
const app = nagApp();
const stack = new Stack(app, 'SyncStack');
const table = new dynamodb.TableV2(stack, 'Items', {
  partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
  dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  removalPolicy: RemovalPolicy.DESTROY,
});
const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', {
  distributionId: 'E2EXAMPLE',
  domainName: 'd111111abcdef8.cloudfront.net',
});
const cache = new FakeDataCache(stack, 'Cache');
const routes = parseRouteTable(catalogRoutes());
const sync = new CacheSync(stack, 'Sync', {
  table,
  routes,
  distribution,
  dataCache: cache,
  dataKeys: [...CATALOG_DATA_PURGE.keys],
  dataGroups: [...CATALOG_DATA_PURGE.groups],
});
// Variants in the same app (one synthesis, nag-checked too): edge only, and a VPC with its own SQS endpoint.
const edgeOnlyStack = new Stack(app, 'EdgeOnlyStack');
const edgeOnly = new CacheSync(edgeOnlyStack, 'Sync', {
  table: new dynamodb.TableV2(edgeOnlyStack, 'T', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  }),
  routes,
  distribution: cloudfront.Distribution.fromDistributionAttributes(edgeOnlyStack, 'D', { distributionId: 'E1', domainName: 'x.cloudfront.net' }),
  edgeCoalescingWindow: Duration.seconds(20),
  edgeMaxFilePaths: 100,
});
const noEndpointStack = new Stack(app, 'NoEndpointStack');
const noEndpoint = new CacheSync(noEndpointStack, 'Sync', {
  table: new dynamodb.TableV2(noEndpointStack, 'T', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  }),
  routes,
  dataCache: new FakeDataCache(noEndpointStack, 'Cache'),
  dataKeys: ['item:{id}'],
  sqsEndpoint: false,
});
const findings = synthFindings(app);
const template = Template.fromStack(stack);

const logicalId = (construct: Construct) => stack.getLogicalId(construct.node.defaultChild as lambda.CfnFunction);
const fnProps = (fn: lambda.Function | undefined) => template.toJSON().Resources[logicalId(fn!)].Properties;
const refOf = (construct: Construct) => stack.getLogicalId(construct.node.defaultChild as lambda.CfnFunction);
const arnOf = (construct: Construct) => ({ 'Fn::GetAtt': [refOf(construct), 'Arn'] });
const mappingsOf = (fn: lambda.Function | undefined) =>
  Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalId(fn!) } } })).map((m) => m.Properties);
const streamArn = { 'Fn::GetAtt': [stack.getLogicalId(table.node.defaultChild as dynamodb.CfnGlobalTable), 'StreamArn'] };
const statementsOf = (fn: lambda.Function | undefined) => {
  const roleRef = fnProps(fn).Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleRef }] } })).flatMap(
    (p) => p.Properties.PolicyDocument.Statement,
  );
};

test('cdk-nag AwsSolutions and Serverless checks report no unacknowledged finding', () => {
  expect(findings).toEqual([]);
});

test('template snapshot (asset hashes normalised)', () => {
  expect(normalizedTemplate(stack)).toMatchSnapshot();
});

test('cfn-lint finds no error or warning in the synthesized template', () => {
  const file = path.join(app.outdir, 'SyncStack.template.json');
  expect(fs.existsSync(file)).toBe(true);
  // cfn-lint exits non-zero when it finds something; the findings are its JSON output either way.
  const result = spawnSync(requireBinary('cfn-lint'), ['--format', 'json', file], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  const findings = (JSON.parse(result.stdout) as Array<{ Rule: { Id: string }; Message: string }>).map((f) => `${f.Rule.Id} ${f.Message}`);
  expect(findings).toEqual([]);
}, 120_000);

describe('wiring: stream → data purge → edge purge', () => {
  test('the data purge reads the table stream from LATEST with bisect, partial-batch responses and bounded retries', () => {
    expect(mappingsOf(sync.dataPurge).filter((m) => m.EventSourceArn['Fn::GetAtt']?.[1] === 'StreamArn')).toEqual([
      {
        FunctionName: { Ref: logicalId(sync.dataPurge!) },
        EventSourceArn: streamArn,
        StartingPosition: 'LATEST',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: 3600,
        ParallelizationFactor: 1,
        DestinationConfig: { OnFailure: { Destination: arnOf(sync.dataFailures!) } },
      },
    ]);
  });

  test('with a data cache, the edge purge does not read the stream: it reads the request queue the data purge forwards to (before: both read the stream)', () => {
    expect(mappingsOf(sync.edgePurge)).toEqual([
      {
        FunctionName: { Ref: logicalId(sync.edgePurge!) },
        EventSourceArn: arnOf(sync.edgeRequests!),
        BatchSize: 1000,
        MaximumBatchingWindowInSeconds: 5,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      },
    ]);
    expect(fnProps(sync.dataPurge).Environment.Variables).toMatchObject({
      EDGE_PURGE_QUEUE_URL: { Ref: refOf(sync.edgeRequests!) },
      EDGE_PURGE_PATHS: '/items,/items?*,/items/{id}',
    });
  });

  test('the data purge retries refused work from its retry queue', () => {
    expect(mappingsOf(sync.dataPurge).filter((m) => m.EventSourceArn['Fn::GetAtt']?.[1] === 'Arn')).toEqual([
      {
        FunctionName: { Ref: logicalId(sync.dataPurge!) },
        EventSourceArn: arnOf(sync.dataRetries!),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      },
    ]);
    expect(fnProps(sync.dataPurge).Environment.Variables.DATA_PURGE_RETRY_QUEUE_URL).toEqual({ Ref: refOf(sync.dataRetries!) });
  });

  test('queues are encrypted, TLS-only, kept 14 days; work queues drain to the failure queues after five receives, those to a dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 5);
    const props = (q: Construct) => template.toJSON().Resources[refOf(q)].Properties;
    for (const [queue, dlq, visibility] of [
      [sync.edgeRequests!, sync.edgeFailures!, 360],
      [sync.dataRetries!, sync.dataFailures!, 180],
      [sync.edgeFailures!, sync.deadLetterQueue, undefined],
      [sync.dataFailures!, sync.deadLetterQueue, undefined],
    ] as const) {
      expect(props(queue)).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600, RedrivePolicy: { deadLetterTargetArn: arnOf(dlq), maxReceiveCount: 5 } });
      expect(props(queue).VisibilityTimeout).toBe(visibility);
      const policies = template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: refOf(queue) }] } });
      expect(JSON.stringify(Object.values(policies)[0].Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  test('each function sends only where its design says', () => {
    const sendsTo = (fn: lambda.Function | undefined) =>
      statementsOf(fn)
        .filter((s: any) => [s.Action].flat().includes('sqs:SendMessage'))
        // cdk init's minimizePolicies may merge statements: one resource per entry.
        .flatMap((s: any) => [s.Resource].flat());
    // The edge purge hands off to its own request queue.
    expect(sendsTo(sync.edgePurge)).toEqual([arnOf(sync.edgeRequests!)]);
    // The data purge: its stream failures, its retry queue, the edge purge's request queue.
    const sorted = (refs: unknown[]) => refs.map((r) => JSON.stringify(r)).sort();
    expect(sorted(sendsTo(sync.dataPurge))).toEqual(sorted([arnOf(sync.dataFailures!), arnOf(sync.dataRetries!), arnOf(sync.edgeRequests!)]));
  });

  test('the data purge reaches SQS through an interface endpoint in the cache VPC, on 443 only', () => {
    const endpoint = template.toJSON().Resources[refOf(sync.sqsEndpoint!)].Properties;
    expect(endpoint).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
    expect(JSON.stringify(endpoint.ServiceName)).toContain('.sqs');
    const fnSg = fnProps(sync.dataPurge).VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { GroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] }, FromPort: 443, ToPort: 443, IpProtocol: 'tcp' });
  });
});

describe('edge purge', () => {
  test('runs outside any VPC with the distribution id, the paths of the edge-cached routes and its request queue', () => {
    const props = fnProps(sync.edgePurge);
    expect(props.VpcConfig).toBeUndefined();
    expect(props.Environment.Variables).toEqual({
      DISTRIBUTION_ID: 'E2EXAMPLE',
      EDGE_PURGE_PATHS: '/items,/items?*,/items/{id}',
      EDGE_PURGE_QUEUE_URL: { Ref: refOf(sync.edgeRequests!) },
    });
    expect(props).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 60, TracingConfig: { Mode: 'Active' } });
  });

  test('may create, get and list invalidations on that distribution only, and nothing else in CloudFront', () => {
    const cloudfrontStatements = statementsOf(sync.edgePurge).filter((s: any) => JSON.stringify(s.Action).includes('cloudfront:'));
    expect(cloudfrontStatements).toEqual([
      {
        Action: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 'cloudfront:ListInvalidations'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/E2EXAMPLE']] },
      },
    ]);
    expect(JSON.stringify(statementsOf(sync.dataPurge))).not.toContain('cloudfront:');
  });

  test('without a data cache it reads the stream itself (and hands off to its queue)', () => {
    const tt = Template.fromStack(edgeOnlyStack);
    const mappings = Object.values(tt.findResources('AWS::Lambda::EventSourceMapping')).map((m) => m.Properties);
    expect(mappings.map((m) => m.EventSourceArn['Fn::GetAtt'][1]).sort()).toEqual(['Arn', 'StreamArn']);
    expect(mappings.find((m) => m.EventSourceArn['Fn::GetAtt'][1] === 'Arn').MaximumBatchingWindowInSeconds).toBe(20);
    expect(edgeOnly.sqsEndpoint).toBeUndefined();
    expect(edgeOnly.dataPurge).toBeUndefined();
    const edgeFn = Object.values(tt.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.DISTRIBUTION_ID);
    expect(edgeFn!.Properties.Environment.Variables.EDGE_PURGE_MAX_FILE_PATHS).toBe('100');
    const s = new Stack();
    const t = new dynamodb.TableV2(s, 'T', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES });
    const d = cloudfront.Distribution.fromDistributionAttributes(s, 'D', { distributionId: 'E1', domainName: 'x.cloudfront.net' });
    expect(() => new CacheSync(s, 'Bad', { table: t, routes, distribution: d, edgeCoalescingWindow: Duration.minutes(6) })).toThrow(/edgeCoalescingWindow/);
    expect(() => new CacheSync(s, 'Bad2', { table: t, routes, distribution: d, edgeMaxFilePaths: 3001 })).toThrow(/edgeMaxFilePaths must be an integer between 0 and 3000 paths, got 3001/);
  });
});

describe('data purge', () => {
  test('runs in the cache VPC isolated subnets, connected to the cache and to SQS only, with the route functions key prefix', () => {
    const props = fnProps(sync.dataPurge);
    const isolated = cache.vpc.isolatedSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as ec2.CfnSubnet) }));
    expect(props.VpcConfig.SubnetIds).toEqual(isolated);
    expect(props.Environment.Variables).toEqual({
      DATA_CACHE_KEY_PREFIX: 'SyncStack',
      DATA_PURGE_KEYS: 'item:{id}',
      DATA_PURGE_GROUPS: 'items',
      DATA_CACHE_ENGINE: 'valkey-serverless',
      DATA_CACHE_ENDPOINT: 'cache.example.internal:6379',
      DATA_PURGE_RETRY_QUEUE_URL: { Ref: refOf(sync.dataRetries!) },
      EDGE_PURGE_QUEUE_URL: { Ref: refOf(sync.edgeRequests!) },
      EDGE_PURGE_PATHS: '/items,/items?*,/items/{id}',
    });
    const fnSg = props.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
    // Its own security group lets it reach the cache port and the SQS endpoint, nothing else.
    const ownSg = template.toJSON().Resources[fnSg].Properties;
    expect(ownSg.SecurityGroupEgress).toBeUndefined();
    const egress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress', { Properties: { GroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] } } }));
    expect(egress.map((e) => e.Properties)).toEqual([
      {
        GroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 6379,
        ToPort: 6379,
        DestinationSecurityGroupId: { 'Fn::GetAtt': [stack.getLogicalId(cache.securityGroup.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] },
        Description: 'cache clients',
      },
      {
        GroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        DestinationSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^SyncSqsEndpointSecurityGroup/), 'GroupId'] },
        Description: 'Data purge to SQS (retry and edge queues)',
      },
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [stack.getLogicalId(cache.securityGroup.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] },
      FromPort: 6379,
      ToPort: 6379,
    });
  });

  test('only the data purge reads the stream, and only the stream, of the table', () => {
    // (action, resource) pairs, since cdk init's minimizePolicies flag merges statements.
    const dynamo = statementsOf(sync.dataPurge)
      .flatMap((s: any) => [s.Action].flat().flatMap((action: string) => [s.Resource].flat().map((resource: unknown) => ({ action, resource, effect: s.Effect }))))
      .filter((pair: any) => pair.action.startsWith('dynamodb:'));
    expect(dynamo).toHaveLength(5);
    expect(dynamo).toEqual(expect.arrayContaining([
      // CDK's own ListStreams grant on the stream ARN is ineffective (no resource-level permissions).
      { action: 'dynamodb:ListStreams', effect: 'Allow', resource: streamArn },
      ...['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'].map((action) => ({ action, effect: 'Allow', resource: streamArn })),
      { action: 'dynamodb:ListStreams', effect: 'Allow', resource: '*' },
    ]));
    expect(JSON.stringify(statementsOf(sync.dataPurge))).not.toMatch(/dynamodb:(GetItem|PutItem|DeleteItem|Query|Scan|UpdateItem)/);
    expect(JSON.stringify(statementsOf(sync.edgePurge))).not.toContain('dynamodb:');
  });

  test('sqsEndpoint: false leaves the endpoint to the VPC owner', () => {
    expect(noEndpoint.sqsEndpoint).toBeUndefined();
    Template.fromStack(noEndpointStack).resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});

describe('edgePurgePaths', () => {
  test('derives each edge-cached GET route\'s path, and path?* when keyed on query strings, under a prefix', () => {
    expect(edgePurgePaths(routes)).toEqual(['/items', '/items?*', '/items/{id}']);
    expect(edgePurgePaths(routes, '/api')).toEqual(['/api/items', '/api/items?*', '/api/items/{id}']);
    expect(() => edgePurgePaths(routes, '/api/')).toThrow(/edgePathPrefix/);
  });
});

describe('validation', () => {
  const fresh = () => {
    const s = new Stack();
    const t = new dynamodb.TableV2(s, 'T', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES });
    const d = cloudfront.Distribution.fromDistributionAttributes(s, 'D', { distributionId: 'E1', domainName: 'x.cloudfront.net' });
    return { s, t, d };
  };

  test('refuses a table without a stream, and a sync with nothing to sync', () => {
    const { s, d } = fresh();
    const noStream = new dynamodb.TableV2(s, 'NoStream', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
    expect(() => new CacheSync(s, 'A', { table: noStream, routes, distribution: d })).toThrow(/has no stream/);
    const keysOnly = new dynamodb.TableV2(s, 'KeysOnly', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, dynamoStream: dynamodb.StreamViewType.KEYS_ONLY });
    expect(() => new CacheSync(s, 'A2', { table: keysOnly, routes, distribution: d })).toThrow(/streams KEYS_ONLY/);
    const imported = dynamodb.TableV2.fromTableName(s, 'Imported', 'items');
    expect(() => new CacheSync(s, 'A3', { table: imported, routes, distribution: d })).toThrow(/tableStreamArn/);
    expect(() => new CacheSync(s, 'B', { table: fresh().t, routes })).toThrow(/nothing to keep in sync/);
  });

  test('refuses an edge purge with no path to purge, a data purge with no key, and out-of-range stream settings', () => {
    const { s, t, d } = fresh();
    const uncached = parseRouteTable({ 'GET /x': { entry: 'lambda/catalog/health.ts' } });
    expect(() => new CacheSync(s, 'A', { table: t, routes: uncached, distribution: d })).toThrow(/no route is edge-cached/);
    expect(() => new CacheSync(s, 'B', { table: t, routes, distribution: d, edgePaths: ['items/{id}'] })).toThrow(/must start with \//);
    expect(() => new CacheSync(s, 'C', { table: t, routes, distribution: d, stream: { batchSize: 0 } })).toThrow(/stream.batchSize/);
    expect(() => new CacheSync(s, 'D2', { table: t, routes, distribution: d, stream: { maxBatchingWindow: Duration.minutes(6) } })).toThrow(/maxBatchingWindow/);
    const vpc = new ec2.Vpc(s, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const binding: CacheSyncDataCache = { vpc, functionSubnets: {}, grantConnect: () => undefined };
    expect(() => new CacheSync(s, 'E', { table: t, routes, dataCache: binding })).toThrow(/dataKeys/);
    expect(() => new CacheSync(s, 'F', { table: t, routes, distribution: d, functionDefaults: { vpc } })).toThrow(/no VPC endpoint/);
  });
});
