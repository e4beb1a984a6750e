/**
 * The sample app deployed for real: `npx integ-runner --directory integ` with AWS credentials
 * deploys it, runs the assertions below and destroys it. CI runs integ-runner without
 * credentials: it synthesizes and compares with the committed snapshot, and only a changed
 * snapshot would lead to a deployment (which then fails for want of credentials).
 */
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { CatalogStack } from '../lib/sample';

const app = new App();
const stack = new CatalogStack(app, 'IntegCatalog', { tableRemovalPolicy: RemovalPolicy.DESTROY });
const integ = new IntegTest(app, 'Catalog', {
  testCases: [stack],
  // Asset hashes follow every handler change; the templates' shape is what the snapshot guards.
  diffAssets: false,
});

const itemId = 'integ-lamp';
/** An API Gateway REST (v1) proxy event, as the stage would send it to the route's function. */
const proxyEvent = (method: string, body?: unknown) => ({
  httpMethod: method,
  resource: '/items/{id}',
  path: `/items/${itemId}`,
  pathParameters: { id: itemId },
  queryStringParameters: null,
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body: body === undefined ? null : JSON.stringify(body),
  isBase64Encoded: false,
  requestContext: { requestId: `integ-${method.toLowerCase()}`, httpMethod: method, resourcePath: '/items/{id}', stage: 'v1' },
});

// A write must be visible on the next read: PUT invalidates the data cache before answering.
const write = integ.assertions.invokeFunction({
  functionName: stack.api.functionFor('PUT /items/{id}').functionName,
  payload: JSON.stringify(proxyEvent('PUT', { name: 'Integ lamp', price: 12.5 })),
});
write.expect(ExpectedResult.objectLike({ StatusCode: 200, Payload: Match.stringLikeRegexp('"statusCode":200') }));

const read = integ.assertions.invokeFunction({
  functionName: stack.api.functionFor('GET /items/{id}').functionName,
  payload: JSON.stringify(proxyEvent('GET')),
});
read.expect(ExpectedResult.objectLike({ StatusCode: 200, Payload: Match.stringLikeRegexp('Integ lamp') }));

// Through CloudFront, the second read of the same URL must be an edge cache hit.
const url = `https://${stack.api.edge!.distributionDomainName}/items/${itemId}`;
const firstView = integ.assertions.httpApiCall(url);
firstView.expect(ExpectedResult.objectLike({ status: 200 }));
const secondView = integ.assertions.httpApiCall(url);
secondView.expect(ExpectedResult.objectLike({ status: 200, headers: { 'x-cache': ['Hit from cloudfront'] } }));

write.next(read).next(firstView).next(secondView.waitForAssertions());
