import { Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { addSampleStacks, sampleAppSettings } from '../../lib/sample/sample-app';
import { allPacks, synthFindings, testApp } from '../support/nag';

// The sample app as bin/app.ts builds it (addSampleStacks), under all five packs: by default with the standard
// profile, and with `-c compliance=strict`. Both assemblies land in .test-assemblies/, which CI
// lints with cfn-lint.

// Not nagApp: it acknowledges the alarm-topic warning, whose absence is tested here.
const defaultApp = testApp();
Validations.of(defaultApp).addPlugins(...allPacks(defaultApp));
const defaultStacks = addSampleStacks(defaultApp);
const defaultFindings = synthFindings(defaultApp);

const strictApp = testApp();
Validations.of(strictApp).addPlugins(...allPacks(strictApp));
const strictStacks = addSampleStacks(strictApp, { ...sampleAppSettings(strictApp), compliance: 'strict' });
const strictFindings = synthFindings(strictApp);

const resourcesOf = (stacks: Stack[], type: string) =>
  stacks.flatMap((stack) => Object.entries(Template.fromStack(stack).findResources(type)).map(([id, r]) => ({ stack: stack.stackName, id, ...(r as { Properties: Record<string, any> }) })));

describe('default sample (standard profile, all five packs)', () => {
  test('no unacknowledged finding under AwsSolutions, Serverless, NIST 800-53 R5, PCI DSS 3.2.1 and HIPAA Security', () => {
    expect(defaultFindings).toEqual([]);
  });

  test('every alarm notifies the sample\'s KMS-encrypted topic on ALARM and OK', () => {
    const alarms = resourcesOf(defaultStacks, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(10); // API-level alarms plus the stream and AI alarms: not a vacuous "every"
    for (const alarm of alarms) {
      expect({ alarm: alarm.id, actions: alarm.Properties.AlarmActions }).toEqual({ alarm: alarm.id, actions: [{ Ref: expect.stringMatching(/^ApiMonitoringAlarmTopic/) }] });
      expect(alarm.Properties.OKActions).toEqual(alarm.Properties.AlarmActions);
    }
    for (const topic of resourcesOf(defaultStacks, 'AWS::SNS::Topic')) expect(topic.Properties.KmsMasterKeyId).toBeDefined();
  });

  test('synth warns about nothing (CI fails on any warning)', () => {
    for (const stack of defaultStacks) expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('strict sample (all five packs)', () => {
  test('no unacknowledged finding under AwsSolutions, Serverless, NIST 800-53 R5, PCI DSS 3.2.1 and HIPAA Security', () => {
    expect(strictFindings).toEqual([]);
  });

  test('every log group, secret, queue and topic is encrypted with a customer-managed key', () => {
    const keyRef = { 'Fn::GetAtt': [expect.stringMatching(/Key/), 'Arn'] };
    for (const group of resourcesOf(strictStacks, 'AWS::Logs::LogGroup')) expect([group.id, group.Properties.KmsKeyId]).toEqual([group.id, keyRef]);
    for (const secret of resourcesOf(strictStacks, 'AWS::SecretsManager::Secret')) expect([secret.id, secret.Properties.KmsKeyId]).toEqual([secret.id, keyRef]);
    for (const queue of resourcesOf(strictStacks, 'AWS::SQS::Queue')) {
      expect([queue.id, queue.Properties.KmsMasterKeyId, queue.Properties.SqsManagedSseEnabled]).toEqual([queue.id, keyRef, undefined]);
    }
    for (const topic of resourcesOf(strictStacks, 'AWS::SNS::Topic')) expect([topic.id, topic.Properties.KmsMasterKeyId]).toEqual([topic.id, keyRef]);
  });

  test('the CloudFront log bucket uses SSE-KMS; the bucket of its server access logs stays SSE-S3 (S3 delivers those only there)', () => {
    const buckets = resourcesOf(strictStacks, 'AWS::S3::Bucket');
    const algorithm = (b: (typeof buckets)[number]) => b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm;
    expect(buckets.map((b) => [b.id.replace(/[0-9A-F]{8}$/, ''), algorithm(b)]).sort()).toEqual([
      ['ApiEdgeAccessLogs', 'aws:kms'],
      ['ApiEdgeServerAccessLogs', 'AES256'],
    ]);
  });

  test('one compliance key per stack, rotated, whose policy admits CloudWatch Logs and this account only through the services', () => {
    for (const stack of strictStacks) {
      const template = Template.fromStack(stack);
      template.resourcePropertiesCountIs('AWS::KMS::Key', { Description: Match.stringLikeRegexp('strict compliance profile') }, 1);
      template.hasResourceProperties('AWS::KMS::Key', {
        Description: Match.stringLikeRegexp('strict compliance profile'),
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({ Sid: 'AllowThisAccountThroughServices', Principal: { AWS: '*' }, Condition: { StringEquals: { 'kms:CallerAccount': { Ref: 'AWS::AccountId' }, 'kms:ViaService': Match.anyValue() } } }),
            Match.objectLike({ Sid: 'AllowCloudWatchLogsOfThisAccount' }),
          ]),
        },
      });
    }
  });

  test('no inline IAM policy: each role\'s statements are a customer-managed policy attached to it', () => {
    expect(resourcesOf(strictStacks, 'AWS::IAM::Policy')).toEqual([]);
    const managed = resourcesOf(strictStacks, 'AWS::IAM::ManagedPolicy');
    expect(managed.length).toBeGreaterThanOrEqual(11);
    for (const policy of managed) expect(policy.Properties.Roles).toEqual([{ Ref: expect.any(String) }]);
  });

  test('every function reserves concurrency: the route table\'s per route, the profile\'s 5 for the rest', () => {
    const reserved = Object.fromEntries(
      resourcesOf(strictStacks, 'AWS::Lambda::Function').map((fn) => [fn.Properties.Environment?.Variables?.ROUTE_KEY ?? fn.id.replace(/[0-9A-F]{8}$/, ''), fn.Properties.ReservedConcurrentExecutions]),
    );
    expect(reserved).toEqual({
      'GET /items': 20,
      'GET /items/{id}': 20,
      'PUT /items/{id}': 5,
      'DELETE /items/{id}': 5,
      'GET /health': 2,
      'GET /partner/items': 5,
      CacheSyncEdgePurge: 5,
      CacheSyncDataPurge: 5,
      'POST /v1/chat/completions': 5,
      'GET /v1/models': 5,
      ApiEdgeOriginVerificationRotationFunction: 5,
      // CDK's deploy-time provider (a CfnResource, not a CfnFunction): runs once per deploy; the
      // packs' LambdaConcurrency rule checks CfnFunction only, and the profile leaves it alone.
      CustomVpcRestrictDefaultSGCustomResourceProviderHandler: undefined,
    });
  });

  test('every alarm still notifies (the profile adds no silent alarm)', () => {
    for (const alarm of resourcesOf(strictStacks, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });
});
