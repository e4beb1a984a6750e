import * as fs from 'fs';
import * as path from 'path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ApiAuthorization, CacheableApi } from '../../lib';
import { Compliance, CompliancePolicy } from '../../lib/compliance';
import { CATALOG_HANDLERS_DIR } from '../../lib/sample';
import { allPacks, synthViolations, testApp } from '../support/nag';

// The profile on resources that are not the kit's: it works on any construct under the scope.

function plainStack(policy: CompliancePolicy, extra?: (stack: Stack) => void) {
  const app = testApp();
  Validations.of(app).addPlugins(...allPacks(app));
  const stack = new Stack(app, 'Plain');
  new logs.LogGroup(stack, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
  const secret = new secretsmanager.Secret(stack, 'Secret');
  new sqs.Queue(stack, 'Queue', { enforceSSL: true });
  new sns.Topic(stack, 'Topic', { enforceSSL: true });
  new s3.Bucket(stack, 'Bucket', { enforceSSL: true, versioned: true });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  secret.grantRead(role);
  extra?.(stack);
  Compliance.apply(stack, policy);
  const violations = synthViolations(app);
  // Read from the assembly: a second synth (Template.fromStack) would throw on the findings.
  const template = Template.fromJSON(JSON.parse(fs.readFileSync(path.join(app.outdir, 'Plain.template.json'), 'utf8')));
  return { stack, template, violations };
}


test('strict encrypts log groups, secrets, queues, topics and buckets of any construct with one new key per stack', () => {
  const { template, violations } = plainStack(CompliancePolicy.strict());
  const keys = template.findResources('AWS::KMS::Key');
  expect(Object.keys(keys)).toEqual([expect.stringMatching(/^ComplianceKey/)]);
  const keyRef = { 'Fn::GetAtt': [Object.keys(keys)[0], 'Arn'] };
  template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyRef });
  template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: keyRef });
  template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyRef });
  template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyRef });
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyRef }, BucketKeyEnabled: true }] },
  });
  template.resourceCountIs('AWS::IAM::Policy', 0);
  template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
  // What is left is what a plain bucket and secret lack beyond keys (logging, replication, rotation).
  expect(violations.filter((v) => /KMS|Encrypt|InlinePolicy/.test(v.rule)).map((v) => v.rule)).toEqual([]);
});

test('a key passed as encryptionKey is used everywhere and gets the statements it needs', () => {
  const app = testApp();
  const stack = new Stack(app, 'Given');
  const given = new kms.Key(stack, 'PlatformKey', { enableKeyRotation: true });
  new logs.LogGroup(stack, 'Logs');
  new secretsmanager.Secret(stack, 'Secret');
  Compliance.apply(stack, CompliancePolicy.strict({ encryptionKey: given }));
  const t = Template.fromStack(stack);
  expect(Object.keys(t.findResources('AWS::KMS::Key'))).toEqual([expect.stringMatching(/^PlatformKey/)]);
  const sids = (Object.values(t.findResources('AWS::KMS::Key'))[0] as any).Properties.KeyPolicy.Statement.map((s: { Sid?: string }) => s.Sid);
  expect(sids).toEqual(expect.arrayContaining(['AllowCloudWatchLogsOfThisAccount', 'AllowThisAccountThroughServices']));
});

test('managedPolicies: false keeps inline policies; reservedConcurrency must be a whole number of at least 1', () => {
  const { template } = plainStack(CompliancePolicy.strict({ managedPolicies: false }));
  template.resourceCountIs('AWS::IAM::Policy', 1);
  template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  for (const bad of [0, -1, 2.5]) expect(() => CompliancePolicy.strict({ reservedConcurrency: bad })).toThrow(`reservedConcurrency must be a whole number of at least 1, got ${bad}`);
});

test('an AwsSolutions acknowledgement placed with Validations.of carries its reason to the regulated packs\' equivalent rule', () => {
  const reason = 'Rotated by the vendor portal every 90 days, then pasted here by the on-call runbook';
  const { violations } = plainStack(CompliancePolicy.strict(), (stack) => {
    const vendor = new secretsmanager.Secret(stack, 'VendorKey');
    Validations.of(vendor).acknowledge({ id: 'AwsSolutions-SMG4', reason });
  });
  const rotation = violations.filter((v) => v.rule.endsWith('SecretsManagerRotationEnabled')).map((v) => `${v.rule} ${v.constructPath}`);
  // Only the plain secret is flagged; VendorKey's finding is covered in NIST and HIPAA alike.
  expect(rotation.sort()).toEqual(['HIPAA.Security-SecretsManagerRotationEnabled Plain/Secret/Resource', 'NIST.800.53.R5-SecretsManagerRotationEnabled Plain/Secret/Resource']);
});

test('a stage with an HTTP integration keeps its APIGWSSLEnabled finding: the client-certificate reason holds only for Lambda and MOCK integrations', () => {
  const findingsOf = (withHttp: boolean) => {
    const app = testApp();
    Validations.of(app).addPlugins(...allPacks(app));
    const stack = new Stack(app, 'Http');
    const api = new CacheableApi(stack, 'Api', {
      authorization: ApiAuthorization.iam(),
      routes: { 'GET /health': { entry: path.join(CATALOG_HANDLERS_DIR, 'health.ts') } },
      monitoring: { createAlarmTopic: true },
    });
    if (withHttp) api.restApi.root.addResource('legacy').addMethod('GET', new apigw.HttpIntegration('https://legacy.example.com/'), { authorizationType: apigw.AuthorizationType.IAM });
    Compliance.apply(stack, CompliancePolicy.strict({ reservedConcurrency: 1 }));
    return synthViolations(app).filter((v) => v.rule.endsWith('-APIGWSSLEnabled')).map((v) => v.rule).sort();
  };
  expect(findingsOf(false)).toEqual([]);
  expect(findingsOf(true)).toEqual(['HIPAA.Security-APIGWSSLEnabled', 'NIST.800.53.R5-APIGWSSLEnabled', 'PCI.DSS.321-APIGWSSLEnabled']);
});

describe('standard', () => {
  const REGULATED = /^(NIST|PCI|HIPAA)/;

  test('changes no resource: the template is the one without a profile', () => {
    const templateOf = (policy?: CompliancePolicy) => {
      const app = testApp();
      const stack = new Stack(app, 'Same');
      new logs.LogGroup(stack, 'Logs');
      new secretsmanager.Secret(stack, 'Secret');
      new s3.Bucket(stack, 'Bucket', { encryption: s3.BucketEncryption.S3_MANAGED });
      new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] }));
      if (policy) Compliance.apply(stack, policy);
      return Template.fromStack(stack).toJSON();
    };
    expect(templateOf(CompliancePolicy.standard())).toEqual(templateOf());
  });

  test('acknowledges only what is true of the resource: a bucket without an encryption setting and a topic without a key keep their findings', () => {
    const { violations } = plainStack(CompliancePolicy.standard(), (stack) => {
      new s3.Bucket(stack, 'SseS3Bucket', { enforceSSL: true, versioned: true, encryption: s3.BucketEncryption.S3_MANAGED });
    });
    const left = (rule: string) => violations.filter((v) => REGULATED.test(v.rule) && v.rule.endsWith(`-${rule}`)).map((v) => v.constructPath).sort();
    // plainStack's Bucket has no BucketEncryption in its template: never said to be SSE-S3. SseS3Bucket is.
    expect(left('S3DefaultEncryptionKMS')).toEqual(['Plain/Bucket/Resource', 'Plain/Bucket/Resource', 'Plain/Bucket/Resource']);
    expect(left('SNSEncryptedKMS')).toEqual(['Plain/Topic/Resource', 'Plain/Topic/Resource', 'Plain/Topic/Resource']);
    // What a key, a managed policy or a reservation would fix is acknowledged on the log group, secret, SSE-S3 bucket and role.
    for (const rule of ['CloudWatchLogGroupEncrypted', 'SecretsManagerUsingKMSKey', 'IAMNoInlinePolicy']) expect([rule, left(rule)]).toEqual([rule, []]);
  });
});
