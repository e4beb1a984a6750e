/**
 * DataCache engines other than the sample's Valkey serverless, in a VPC the app passes: a
 * Valkey replication group and a Memcached cluster, each behind the sample's item handlers.
 * Deployed, each engine must serve the second read from the cache and show a write on the
 * next read.
 */
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { ApiAuthorization, CacheableApi, DataCache, DataCacheEngine } from '../lib';
import { CATALOG_HANDLERS_DIR } from '../lib/sample';
import { itemEvent } from './support';

const app = new App();
const stack = new Stack(app, 'IntegDataCache');

// Isolated subnets only, as the data cache requires; the handlers reach DynamoDB through a gateway endpoint.
const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  natGateways: 0,
  subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
  // No custom resource to empty the default security group: nothing in this test uses it.
  restrictDefaultSecurityGroup: false,
});
const table = new dynamodb.TableV2(stack, 'Items', {
  partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
  removalPolicy: RemovalPolicy.DESTROY,
});

const engines = {
  Valkey: DataCacheEngine.replicationGroup({ numCacheClusters: 2 }),
  Memcached: DataCacheEngine.memcached({ numCacheNodes: 2 }),
};

const apis = Object.entries(engines).map(([name, engine]) => {
  const dataCache = new DataCache(stack, `${name}Cache`, { vpc, engine, removalPolicy: RemovalPolicy.DESTROY });
  const api = new CacheableApi(stack, `${name}Api`, {
    authorization: ApiAuthorization.iam(),
    dataCache,
    routes: {
      'GET /items/{id}': { entry: path.join(CATALOG_HANDLERS_DIR, 'get-item.ts'), cache: { data: { ttl: Duration.minutes(5) } } },
      'PUT /items/{id}': { entry: path.join(CATALOG_HANDLERS_DIR, 'put-item.ts'), cache: { data: { ttl: Duration.minutes(5) } } },
    },
    functionDefaults: { environment: { TABLE_NAME: table.tableName } },
    monitoring: false,
  });
  table.grant(api.functionFor('GET /items/{id}'), 'dynamodb:GetItem');
  table.grant(api.functionFor('PUT /items/{id}'), 'dynamodb:PutItem');
  return { name, api };
});

const integ = new IntegTest(app, 'DataCache', { testCases: [stack], diffAssets: false, stackUpdateWorkflow: false });

for (const { name, api } of apis) {
  const id = `integ-${name.toLowerCase()}`;
  const invoke = (method: 'GET' | 'PUT', body?: unknown) => integ.assertions.invokeFunction({
    functionName: api.functionFor(`${method} /items/{id}`).functionName,
    payload: JSON.stringify(itemEvent(method, id, body)),
  });
  const ok = (...patterns: string[]) => ExpectedResult.objectLike({
    StatusCode: 200,
    Payload: Match.stringLikeRegexp(['"statusCode":200', ...patterns].map((p) => `(?=[\\s\\S]*${p})`).join('')),
  });

  const firstWrite = invoke('PUT', { name: `${name} lamp`, price: 1 });
  firstWrite.expect(ok());
  const miss = invoke('GET');
  miss.expect(ok(`${name} lamp`, '"X-Data-Cache":"miss"'));
  const hit = invoke('GET');
  hit.expect(ok(`${name} lamp`, '"X-Data-Cache":"hit"'));
  // The write invalidates the cached item: the next read must show it.
  const secondWrite = invoke('PUT', { name: `${name} lamp, renamed`, price: 2 });
  secondWrite.expect(ok());
  const readAfterWrite = invoke('GET');
  readAfterWrite.expect(ok(`${name} lamp, renamed`));
  firstWrite.next(miss).next(hit).next(secondWrite).next(readAfterWrite);
}
