/**
 * ApiMonitoring on its own, watching an API that creates none (`monitoring: false`), with an
 * alarm topic and a namespace of its own. Deployed: the dashboard exists, the alarms notify the
 * topic, and a request to the API publishes a request metric in that namespace.
 */
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { ApiAuthorization, ApiMonitoring, CacheableApi } from '../lib';
import { CATALOG_HANDLERS_DIR } from '../lib/sample';

const app = new App();
const stack = new Stack(app, 'IntegApiMonitoring');
const namespace = 'CacheableApiInteg';

const api = new CacheableApi(stack, 'Api', {
  authorization: ApiAuthorization.iam(),
  routes: {
    'GET /health': {
      entry: path.join(CATALOG_HANDLERS_DIR, 'health.ts'),
      authorization: ApiAuthorization.publicAccess('Integration test: health check'),
    },
  },
  monitoring: false,
});
const monitoring = new ApiMonitoring(stack, 'Monitoring', { api, createAlarmTopic: true, metricsNamespace: namespace });

const integ = new IntegTest(app, 'ApiMonitoring', { testCases: [stack], diffAssets: false, stackUpdateWorkflow: false });

const dashboard = integ.assertions.awsApiCall('CloudWatch', 'getDashboard', { DashboardName: monitoring.dashboard.dashboardName });
dashboard.expect(ExpectedResult.objectLike({ DashboardName: monitoring.dashboard.dashboardName }));

const alarmNames = Object.values(monitoring.alarms).map((a) => a.alarmName);
const alarms = integ.assertions.awsApiCall('CloudWatch', 'describeAlarms', { AlarmNames: alarmNames });
// Every alarm of the construct, each notifying the topic it created.
alarms.expect(ExpectedResult.objectLike({
  MetricAlarms: alarmNames.map(() => Match.objectLike({ AlarmActions: [monitoring.alarmTopic!.topicArn] })),
}));

// One request, then its metric in the namespace (EMF metrics appear within a few minutes).
const request = integ.assertions.httpApiCall(`${api.url}health`);
request.expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }));
const metrics = integ.assertions.awsApiCall('CloudWatch', 'listMetrics', { Namespace: namespace });
metrics.expect(ExpectedResult.objectLike({ Metrics: Match.arrayWith([Match.objectLike({ Namespace: namespace })]) }));

dashboard.next(alarms).next(request).next(metrics.waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) }));
