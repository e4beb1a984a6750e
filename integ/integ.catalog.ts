/**
 * The sample app, every construct together (CacheableApi with a Valkey serverless data cache,
 * EdgeCache, CacheSync, ApiMonitoring), deployed for real by `npx integ-runner` with AWS
 * credentials. CI verifies the committed snapshot without deploying (scripts/integ-verify.ts).
 */
import { App, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { CatalogStack } from '../lib/sample';
import { itemEvent } from './support';

const app = new App();
const stack = new CatalogStack(app, 'IntegCatalog', { tableRemovalPolicy: RemovalPolicy.DESTROY });
const integ = new IntegTest(app, 'Catalog', {
  testCases: [stack],
  // Asset hashes follow every handler change; the templates' shape is what the snapshot guards.
  diffAssets: false,
  // The snapshot keeps templates, not bundled code; a changed snapshot deploys fresh.
  stackUpdateWorkflow: false,
});

const itemId = 'integ-lamp';

// A write must be visible on the next read: PUT invalidates the data cache before answering.
const write = integ.assertions.invokeFunction({
  functionName: stack.api.functionFor('PUT /items/{id}').functionName,
  payload: JSON.stringify(itemEvent('PUT', itemId, { name: 'Integ lamp', price: 12.5 })),
});
write.expect(ExpectedResult.objectLike({ StatusCode: 200, Payload: Match.stringLikeRegexp('"statusCode":200') }));

const read = integ.assertions.invokeFunction({
  functionName: stack.api.functionFor('GET /items/{id}').functionName,
  payload: JSON.stringify(itemEvent('GET', itemId)),
});
read.expect(ExpectedResult.objectLike({ StatusCode: 200, Payload: Match.stringLikeRegexp('Integ lamp') }));

// Through CloudFront, the second read of the same URL must be an edge cache hit.
const url = `https://${stack.api.edge!.distributionDomainName}/items/${itemId}`;
const firstView = integ.assertions.httpApiCall(url);
firstView.expect(ExpectedResult.objectLike({ status: 200 }));
const secondView = integ.assertions.httpApiCall(url);
secondView.expect(ExpectedResult.objectLike({ status: 200, headers: { 'x-cache': ['Hit from cloudfront'] } }));

// CacheSync: a write straight to the table (another writer than the API) purges the data cache
// and the edge. The item's data-cache entry (from the read above) lives 5 minutes, so seeing
// the new name within 3 minutes takes the purge, not expiry.
const directWrite = integ.assertions.awsApiCall('DynamoDB', 'putItem', {
  TableName: stack.table.tableName,
  Item: { id: { S: itemId }, name: { S: 'Integ lamp, renamed' }, price: { N: '13' }, updatedAt: { S: '2026-01-01T00:00:00.000Z' } },
});
const viewAfterSync = integ.assertions.httpApiCall(url);
viewAfterSync.expect(ExpectedResult.objectLike({ status: 200, body: { name: 'Integ lamp, renamed' } }));

write.next(read).next(firstView).next(secondView.waitForAssertions())
  .next(directWrite).next(viewAfterSync.waitForAssertions({ totalTimeout: Duration.minutes(3), interval: Duration.seconds(10) }));
