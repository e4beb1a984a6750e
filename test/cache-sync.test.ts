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
const findings = synthFindings(app);
const template = Template.fromStack(stack);

const logicalId = (construct: Construct) => stack.getLogicalId(construct.node.defaultChild as lambda.CfnFunction);
const fnProps = (fn: lambda.Function | undefined) => template.toJSON().Resources[logicalId(fn!)].Properties;
const mappingOf = (fn: lambda.Function | undefined) => {
  const mappings = template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalId(fn!) } } });
  expect(Object.keys(mappings)).toHaveLength(1);
  return Object.values(mappings)[0].Properties;
};
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

describe('stream wiring', () => {
  test.each([
    ['edge purge', () => sync.edgePurge, () => sync.edgeFailures],
    ['data purge', () => sync.dataPurge, () => sync.dataFailures],
  ])('the %s reads the table stream from LATEST with bisect, partial-batch responses and bounded retries', (_name, fn, failures) => {
    expect(mappingOf(fn())).toEqual({
      FunctionName: { Ref: logicalId(fn()!) },
      EventSourceArn: { 'Fn::GetAtt': [stack.getLogicalId(table.node.defaultChild as dynamodb.CfnGlobalTable), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [stack.getLogicalId(failures()!.node.defaultChild as lambda.CfnFunction), 'Arn'] } } },
    });
  });

  test('failure queues are encrypted, TLS-only, kept 14 days and drain to a dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 3);
    for (const queue of [sync.edgeFailures!, sync.dataFailures!]) {
      template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1_209_600,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [stack.getLogicalId(sync.deadLetterQueue.node.defaultChild as lambda.CfnFunction), 'Arn'] }, maxReceiveCount: 5 },
      });
      const policies = template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: stack.getLogicalId(queue.node.defaultChild as lambda.CfnFunction) }] } });
      expect(JSON.stringify(Object.values(policies)[0].Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  test('each function may send to its own failure queue only', () => {
    const sendsTo = (fn: lambda.Function | undefined) =>
      statementsOf(fn)
        .filter((s: any) => [s.Action].flat().includes('sqs:SendMessage'))
        .map((s: any) => s.Resource);
    expect(sendsTo(sync.edgePurge)).toEqual([{ 'Fn::GetAtt': [stack.getLogicalId(sync.edgeFailures!.node.defaultChild as lambda.CfnFunction), 'Arn'] }]);
    expect(sendsTo(sync.dataPurge)).toEqual([{ 'Fn::GetAtt': [stack.getLogicalId(sync.dataFailures!.node.defaultChild as lambda.CfnFunction), 'Arn'] }]);
  });
});

describe('edge purge', () => {
  test('runs outside any VPC with the distribution id and the paths of the edge-cached routes', () => {
    const props = fnProps(sync.edgePurge);
    expect(props.VpcConfig).toBeUndefined();
    expect(props.Environment.Variables).toEqual({ DISTRIBUTION_ID: 'E2EXAMPLE', EDGE_PURGE_PATHS: '/items*,/items/{id}' });
    expect(props).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 60, TracingConfig: { Mode: 'Active' } });
  });

  test('may create invalidations on that distribution only, and nothing else in CloudFront', () => {
    const cloudfrontStatements = statementsOf(sync.edgePurge).filter((s: any) => JSON.stringify(s.Action).includes('cloudfront:'));
    expect(cloudfrontStatements).toEqual([
      {
        Action: 'cloudfront:CreateInvalidation',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/E2EXAMPLE']] },
      },
    ]);
    expect(JSON.stringify(statementsOf(sync.dataPurge))).not.toContain('cloudfront:');
  });
});

describe('data purge', () => {
  test('runs in the cache VPC isolated subnets, connected to the cache, with the route functions key prefix', () => {
    const props = fnProps(sync.dataPurge);
    const isolated = cache.vpc.isolatedSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as ec2.CfnSubnet) }));
    expect(props.VpcConfig.SubnetIds).toEqual(isolated);
    expect(props.Environment.Variables).toEqual({
      DATA_CACHE_KEY_PREFIX: 'SyncStack',
      DATA_PURGE_KEYS: 'item:{id}',
      DATA_PURGE_GROUPS: 'items',
      DATA_CACHE_ENGINE: 'valkey-serverless',
      DATA_CACHE_ENDPOINT: 'cache.example.internal:6379',
    });
    const fnSg = props.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
    // Its own security group lets it reach the cache port and nothing else.
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
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [stack.getLogicalId(cache.securityGroup.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] },
      FromPort: 6379,
      ToPort: 6379,
    });
  });

  test('both functions read the stream, and only the stream, of the table', () => {
    const streamArn = { 'Fn::GetAtt': [stack.getLogicalId(table.node.defaultChild as dynamodb.CfnGlobalTable), 'StreamArn'] };
    for (const fn of [sync.edgePurge, sync.dataPurge]) {
      const dynamo = statementsOf(fn).filter((s: any) => JSON.stringify(s.Action).includes('dynamodb:'));
      expect(dynamo).toEqual([
        // CDK's own ListStreams grant on the stream ARN is ineffective (no resource-level permissions).
        { Action: 'dynamodb:ListStreams', Effect: 'Allow', Resource: streamArn },
        { Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], Effect: 'Allow', Resource: streamArn },
        { Action: 'dynamodb:ListStreams', Effect: 'Allow', Resource: '*' },
      ]);
      expect(JSON.stringify(statementsOf(fn))).not.toMatch(/dynamodb:(GetItem|PutItem|DeleteItem|Query|Scan|UpdateItem)/);
    }
  });
});

describe('edgePurgePaths', () => {
  test('derives one template per edge-cached GET route, wildcard when keyed on query strings, under a prefix', () => {
    expect(edgePurgePaths(routes)).toEqual(['/items*', '/items/{id}']);
    expect(edgePurgePaths(routes, '/api')).toEqual(['/api/items*', '/api/items/{id}']);
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
