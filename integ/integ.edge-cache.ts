/**
 * EdgeCache on its own: a CacheableApi whose one public route is cached by CloudFront, no data
 * cache, no dashboard. Deployed, the second viewer read must be a CloudFront hit, and the API
 * stage must refuse a request that did not come through CloudFront (origin verification).
 */
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { ApiAuthorization, CacheableApi } from '../lib';

const app = new App();
const stack = new Stack(app, 'IntegEdgeCache');
const api = new CacheableApi(stack, 'Api', {
  authorization: ApiAuthorization.iam(),
  routes: {
    'GET /greetings/{name}': {
      entry: path.join(__dirname, 'handlers', 'greeting.ts'),
      authorization: ApiAuthorization.publicAccess('Integration test: a public greeting'),
      cache: { edge: { ttl: Duration.minutes(5) } },
    },
  },
  edge: { comment: 'cdk-cacheable-api integ: edge cache' },
  monitoring: false,
});

const integ = new IntegTest(app, 'EdgeCache', { testCases: [stack], diffAssets: false, stackUpdateWorkflow: false });

const viewerUrl = `https://${api.edge!.distributionDomainName}/greetings/integ`;
const firstView = integ.assertions.httpApiCall(viewerUrl);
firstView.expect(ExpectedResult.objectLike({ status: 200, body: { greeting: 'Hello, integ' } }));
// Retried: the first view may land on another edge location than the second.
const secondView = integ.assertions.httpApiCall(viewerUrl);
secondView.expect(ExpectedResult.objectLike({ status: 200, headers: { 'x-cache': ['Hit from cloudfront'] } }));

// Straight to the stage, without CloudFront's origin header: the regional web ACL refuses it.
const direct = integ.assertions.httpApiCall(`${api.url}greetings/integ`);
direct.expect(ExpectedResult.objectLike({ status: 403 }));

firstView.next(secondView.waitForAssertions({ totalTimeout: Duration.minutes(2) })).next(direct);
