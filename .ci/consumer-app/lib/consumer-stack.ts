// A consumer's stack: every construct of cdk-cacheable-api with non-default options, written
// as a team would write it after `npm install cdk-cacheable-api` (imports by package name).
import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import {
  ApiAuthorization,
  CacheableApi,
  CacheSync,
  DataCache,
  DataCacheEngine,
  StatelessFunction,
} from 'cdk-cacheable-api';

export class ConsumerStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const table = new dynamodb.TableV2(this, 'Orders', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The team's existing VPC, with isolated subnets for the cache (imported: no lookup).
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      isolatedSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      isolatedSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
    });
    const replicationGroup = new DataCache(this, 'OrdersCache', {
      vpc,
      engine: DataCacheEngine.replicationGroup({ engine: 'redis', engineVersion: '7.1', numCacheClusters: 3, port: 7000 }),
    });
    // Its own isolated VPC: in this environment-specific stack, built without a context lookup.
    const memcached = new DataCache(this, 'SessionCache', {
      engine: DataCacheEngine.memcached({ numCacheNodes: 2, port: 11212 }),
    });

    const users = new cognito.UserPool(this, 'Users', {
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { sms: false, otp: true },
      passwordPolicy: { minLength: 12, requireDigits: true, requireSymbols: true, requireUppercase: true, requireLowercase: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // No edge cache (no route has cache.edge); Cognito by default, IAM and public routes too.
    const api = new CacheableApi(this, 'OrdersApi', {
      authorization: ApiAuthorization.cognito({ userPools: [users] }),
      dataCache: replicationGroup,
      stageName: 'prod',
      throttle: { rateLimit: 50, burstLimit: 100 },
      functionDefaults: { memorySize: 1024, environment: { TABLE_NAME: table.tableName } },
      monitoring: { createAlarmTopic: true, dashboardName: 'orders-api' },
      routes: {
        'GET /orders/{id}': {
          entry: 'lambda/get-order.ts',
          cache: { data: { ttl: Duration.minutes(5), negativeTtl: Duration.seconds(10) }, gateway: { ttl: Duration.seconds(30), perCaller: true } },
        },
        'PUT /orders/{id}': { entry: 'lambda/put-order.ts', authorization: ApiAuthorization.iam(), cache: { data: { ttl: Duration.minutes(5) } } },
        'GET /health': { entry: 'lambda/health.mts', authorization: ApiAuthorization.publicAccess('Load balancer health checks'), function: { format: 'esm' } },
      },
    });
    table.grantReadData(api.functionFor('GET /orders/{id}'));
    table.grantWriteData(api.functionFor('PUT /orders/{id}'));

    const sync = new CacheSync(this, 'OrdersSync', {
      table,
      routes: api.routes,
      dataCache: replicationGroup,
      dataKeys: ['order:{id}'],
    });
    api.monitoring?.addStreamFunctions([sync.dataPurge!]);

    // A function of the team's own next to the API, using the Memcached cache.
    const sessions = new StatelessFunction(this, 'SessionSweeper', {
      entry: 'lambda/sweep-sessions.ts',
      memorySize: 256,
      vpc: memcached.vpc,
      vpcSubnets: memcached.functionSubnets,
      define: memcached.bundlingDefine,
    });
    memcached.grantConnect(sessions);
  }
}
