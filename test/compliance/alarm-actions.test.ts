import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AlarmActions, ApiAuthorization, ApiMonitoringOptions, CacheableApi, NO_ALARM_TOPIC_WARNING } from '../../lib';
import { CATALOG_HANDLERS_DIR } from '../../lib/sample';
import { testApp } from '../support/nag';

// ApiMonitoring's alarms notify its topic through an aspect, so an alarm added after the
// construct (another section, a user's own alarm under it) notifies too; without a topic, synth
// warns once, naming the prop.

const health = path.join(CATALOG_HANDLERS_DIR, 'health.ts');

function monitored(monitoring: ApiMonitoringOptions) {
  const app = testApp();
  const stack = new Stack(app, 'Alarms');
  const api = new CacheableApi(stack, 'Api', {
    authorization: ApiAuthorization.iam(),
    routes: { 'GET /health': { entry: health } },
    monitoring,
  });
  // Added after ApiMonitoring was built, as a later section or a user would.
  const late = new cloudwatch.Alarm(api.monitoring!, 'LateAlarm', {
    metric: api.stage.metricCount({ period: Duration.minutes(5) }),
    threshold: 1,
    evaluationPeriods: 1,
  });
  return { app, stack, api, late };
}

test('every alarm under ApiMonitoring, one added after it too, notifies the topic on ALARM and OK, once', () => {
  const { stack, api } = monitored({ createAlarmTopic: true });
  AlarmActions.notify(api.monitoring!, api.monitoring!.alarmTopic!); // applied twice: still one action
  const template = Template.fromStack(stack);
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: Record<string, unknown> }>;
  expect(alarms.length).toBe(5); // 5xx rate, latency, the route's errors and throttles, the late one
  const topicRef = [{ Ref: expect.stringMatching(/^ApiMonitoringAlarmTopic/) }];
  for (const alarm of alarms) expect([alarm.Properties.AlarmActions, alarm.Properties.OKActions]).toEqual([topicRef, topicRef]);
  expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('notify nobody'))).toEqual([]);
});

test('a topic passed as alarmTopic is notified by every alarm', () => {
  const app = testApp();
  const stack = new Stack(app, 'Given');
  const topic = sns.Topic.fromTopicArn(stack, 'Ops', 'arn:aws:sns:eu-west-1:123456789012:ops');
  new CacheableApi(stack, 'Api', { authorization: ApiAuthorization.iam(), routes: { 'GET /health': { entry: health } }, monitoring: { alarmTopic: topic } });
  const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: Record<string, unknown> }>;
  for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
});

test('without a topic, synth warns once on ApiMonitoring, naming alarmTopic and the silent alarms', () => {
  const { stack } = monitored({});
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('notify nobody'));
  expect(warnings.map((w) => [w.id, w.entry.data])).toEqual([
    ['/Alarms/Api/Monitoring', `5 alarm(s) of Alarms/Api/Monitoring notify nobody: set alarmTopic (an sns.ITopic) or createAlarmTopic: true [ack: ${NO_ALARM_TOPIC_WARNING}]`],
  ]);
});

test('the warning names only alarms that notify nobody: one with an action of its own is not counted', () => {
  const { stack, late } = monitored({});
  late.addAlarmAction({ bind: () => ({ alarmActionArn: 'arn:aws:sns:eu-west-1:123456789012:own' }) });
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('notify nobody'));
  expect(warnings.map((w) => String(w.entry.data))).toEqual([expect.stringMatching(/^4 alarm\(s\)/)]);
});
