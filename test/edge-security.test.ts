/**
 * WAF logging of both kit web ACLs and the scheduled rotation of the origin-verify secret, as
 * templates: what is created by default, what each prop changes, what the rotation function
 * may touch, and that cdk-nag has nothing left to say.
 */
import * as path from 'path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ApiAuthorization, CacheableApi, EdgeWebAclStack, OriginVerificationOptions } from '../lib';
import { ORIGIN_ROTATION_ENV } from '../lib/edge/origin-secret-rotation';
import { CATALOG_HANDLERS_DIR } from '../lib/sample';
import { ROTATION_ENV } from '../lambda/rotation/origin-verify-rotation';
import { nagApp, synthFindings, testApp } from './support/nag';

type Json = Record<string, any>;
const PUBLIC = ApiAuthorization.publicAccess('Public catalog content served through the edge cache');
const entry = path.join(CATALOG_HANDLERS_DIR, 'get-item.ts');
const ROUTES = { 'GET /items/{id}': { entry, authorization: PUBLIC, cache: { edge: { ttl: Duration.seconds(30) } } } };

function edgeStack(originVerification?: OriginVerificationOptions, app = testApp()): { stack: Stack; api: CacheableApi } {
  const stack = new Stack(app, `S${Math.random().toString(36).slice(2, 8)}`, { env: { account: '111122223333', region: 'eu-west-1' } });
  const api = new CacheableApi(stack, 'Api', { routes: ROUTES, authorization: PUBLIC, edge: { originVerification } });
  return { stack, api };
}

const resourcesOf = (t: Template, type: string): Json[] => Object.values(t.findResources(type));
const only = (t: Template, type: string): Json => {
  const found = resourcesOf(t, type);
  expect(found).toHaveLength(1);
  return found[0];
};

// The default: what every EdgeCache gets, checked with cdk-nag.
const nag = nagApp();
const { stack: defaultStack, api: defaultApi } = edgeStack(undefined, nag);
const edgeWaf = new EdgeWebAclStack(nag, 'EdgeWaf', { env: { account: '111122223333', region: 'us-east-1' } });
const findings = synthFindings(nag);
const template = Template.fromStack(defaultStack);
const edgeTemplate = Template.fromStack(edgeWaf);

test('cdk-nag AwsSolutions and Serverless report nothing unacknowledged', () => {
  expect(findings).toEqual([]);
});

/** The log groups whose name starts with aws-waf-logs-. */
const wafLogGroups = (t: Template): Json[] =>
  resourcesOf(t, 'AWS::Logs::LogGroup').filter((r) => JSON.stringify(r.Properties.LogGroupName ?? '').includes('aws-waf-logs-'));
const redacted = (config: Json): string[] => config.Properties.RedactedFields.map((f: Json) => f.SingleHeader.Name);
const logicalIdOf = (t: Template, resource: Json): string => Object.entries(t.toJSON().Resources).find(([, r]) => r === resource)![0];

describe('WAF logging', () => {
  test('the regional web ACL logs to its own aws-waf-logs- group: 90 days, retained, named per stack instance', () => {
    const [group] = wafLogGroups(template);
    expect(wafLogGroups(template)).toHaveLength(1);
    expect(group.Properties.RetentionInDays).toBe(90);
    expect(group.DeletionPolicy).toBe('Retain');
    // The stack UUID in the name: a retained group never blocks the next stack of the same name.
    expect(JSON.stringify(group.Properties.LogGroupName)).toContain('{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}');
  });

  test('the logging configuration points at the group (ARN without ":*") and redacts the origin header and credentials', () => {
    const config = only(template, 'AWS::WAFv2::LoggingConfiguration');
    const webAclId = logicalIdOf(template, only(template, 'AWS::WAFv2::WebACL'));
    expect(config.Properties.ResourceArn).toEqual({ 'Fn::GetAtt': [webAclId, 'Arn'] });
    const destination = JSON.stringify(config.Properties.LogDestinationConfigs);
    expect(destination).toContain(':log-group:aws-waf-logs-');
    expect(destination).not.toContain(':*');
    expect(redacted(config).sort()).toEqual(['authorization', 'cookie', 'x-api-key', 'x-origin-verify']);
  });

  test('a resource policy of its own lets WAF log delivery write to that group only, from this account', () => {
    const policy = only(template, 'AWS::Logs::ResourcePolicy');
    const document = JSON.stringify(policy.Properties.PolicyDocument);
    expect(document).toContain('delivery.logs.amazonaws.com');
    expect(document).toContain('logs:CreateLogStream');
    expect(document).toContain('logs:PutLogEvents');
    expect(document).toContain(':log-stream:*');
    expect(document).toContain('aws:SourceAccount');
    // WAF checks the policy when the logging configuration is created.
    const config = only(template, 'AWS::WAFv2::LoggingConfiguration');
    expect(config.DependsOn).toContain(logicalIdOf(template, policy));
  });

  test('logging: false removes it; logDestinationArn logs there without creating a group; the retention is a prop', () => {
    const off = Template.fromStack(edgeStack({ logging: false }).stack);
    off.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 0);
    expect(wafLogGroups(off)).toHaveLength(0);
    off.resourceCountIs('AWS::Logs::ResourcePolicy', 0);

    const firehose = 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/aws-waf-logs-central';
    const given = Template.fromStack(edgeStack({ logDestinationArn: firehose }).stack);
    given.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { LogDestinationConfigs: [firehose] });
    expect(wafLogGroups(given)).toHaveLength(0);

    const week = Template.fromStack(edgeStack({ logRetention: logs.RetentionDays.ONE_WEEK, logRemovalPolicy: RemovalPolicy.DESTROY }).stack);
    expect(wafLogGroups(week)[0].Properties.RetentionInDays).toBe(7);
    expect(wafLogGroups(week)[0].DeletionPolicy).toBe('Delete');
  });

  test('the CLOUDFRONT-scope EdgeWebAcl logs in us-east-1 too, redacting credentials; its props are checked', () => {
    const config = only(edgeTemplate, 'AWS::WAFv2::LoggingConfiguration');
    expect(redacted(config).sort()).toEqual(['authorization', 'cookie', 'x-api-key']);
    expect(wafLogGroups(edgeTemplate)).toHaveLength(1);
    expect(wafLogGroups(edgeTemplate)[0].Properties.RetentionInDays).toBe(90);
    const off = Template.fromStack(new EdgeWebAclStack(testApp(), 'Off', { logging: false }));
    off.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 0);
    expect(() => new EdgeWebAclStack(testApp(), 'Bad', { logDestinationArn: 'arn:aws:logs:us-east-1:111122223333:log-group:waf' })).toThrow(
      /^logDestinationArn: WAF logs only to log groups named aws-waf-logs-/,
    );
  });
});

describe('rotation of the origin-verify secret', () => {
  const schedule = () => only(template, 'AWS::SecretsManager::RotationSchedule');
  const rotationFunctionId = () => schedule().Properties.RotationLambdaARN['Fn::GetAtt'][0] as string;
  const secretId = () => logicalIdOf(template, only(template, 'AWS::SecretsManager::Secret'));

  test('every 30 days by default, not during the deployment that creates it, through the rotation function', () => {
    expect(schedule().Properties).toEqual({
      SecretId: { Ref: secretId() },
      RotationLambdaARN: { 'Fn::GetAtt': [rotationFunctionId(), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    const interval = Template.fromStack(edgeStack({ rotationInterval: Duration.days(7) }).stack);
    interval.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
  });

  test('the function is told which web ACL rule, header and distribution carry the value (same names as the runtime reads)', () => {
    expect(ORIGIN_ROTATION_ENV).toEqual(ROTATION_ENV);
    const fn = template.toJSON().Resources[rotationFunctionId()];
    const env = fn.Properties.Environment.Variables;
    const webAclId = logicalIdOf(template, only(template, 'AWS::WAFv2::WebACL'));
    const distributionId = logicalIdOf(template, only(template, 'AWS::CloudFront::Distribution'));
    expect(env).toEqual({
      SECRET_FIELD: 'headerValue',
      HEADER_NAME: 'x-origin-verify',
      VALUE_LENGTH: '48',
      WEB_ACL_NAME: { 'Fn::Select': [0, { 'Fn::Split': ['|', { Ref: webAclId }] }] },
      WEB_ACL_ID: { 'Fn::GetAtt': [webAclId, 'Id'] },
      WEB_ACL_SCOPE: 'REGIONAL',
      WEB_ACL_RULE_NAME: 'AllowOriginVerified',
      ORIGIN_DISTRIBUTION_ID: { Ref: distributionId },
      WAF_SETTLE_SECONDS: '300',
    });
    // The rule it rewrites exists under that name.
    const rules = only(template, 'AWS::WAFv2::WebACL').Properties.Rules.map((r: Json) => r.Name);
    expect(rules).toContain('AllowOriginVerified');
    expect(fn.Properties.Timeout).toBeGreaterThan(300);
  });

  test('least privilege: the secret, the web ACL and the distribution only; Secrets Manager may invoke it for this secret only', () => {
    const fn = template.toJSON().Resources[rotationFunctionId()];
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const policy = resourcesOf(template, 'AWS::IAM::Policy').find((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))!;
    const statements: Json[] = policy.Properties.PolicyDocument.Statement;
    const webAclId = logicalIdOf(template, only(template, 'AWS::WAFv2::WebACL'));
    const byAction = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
    expect(byAction('secretsmanager:PutSecretValue')[0]).toMatchObject({
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      Resource: { Ref: secretId() },
    });
    expect(byAction('wafv2:UpdateWebACL')[0]).toMatchObject({ Action: ['wafv2:GetWebACL', 'wafv2:UpdateWebACL'], Resource: { 'Fn::GetAtt': [webAclId, 'Arn'] } });
    expect(JSON.stringify(byAction('cloudfront:UpdateDistribution')[0].Resource)).toMatch(/cloudfront::111122223333:distribution\/".*"Ref":"ApiEdgeDistribution/);
    // Resource "*" only for X-Ray (no GetRandomPassword: the function draws the value itself).
    const wildcard = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(wildcard.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(JSON.stringify(statements)).not.toContain('GetRandomPassword');

    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [rotationFunctionId(), 'Arn'] },
      Principal: 'secretsmanager.amazonaws.com',
      SourceArn: { Ref: secretId() },
    });
    // The schedule is created once the function may be invoked and may act.
    expect(schedule().DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/SecretsManagerInvoke/), roleId, logicalIdOf(template, policy)]));
  });

  test('AwsSolutions-SMG4 is acknowledged only when nothing rotates the secret', () => {
    const acknowledged = (api: CacheableApi) =>
      api.edge!.originVerification!.secret.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => JSON.stringify(m.data));
    expect(acknowledged(defaultApi).join()).not.toContain('SMG4');
    const manual = edgeStack({ rotation: false });
    const manualTemplate = Template.fromStack(manual.stack);
    manualTemplate.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    expect(acknowledged(manual.api).join()).toContain('SMG4');
  });

  test('invalid rotation props throw, naming the prop', () => {
    expect(() => edgeStack({ secretVersionId: '11111111-2222-3333-4444-555555555555' })).toThrow(
      /^originVerification.secretVersionId and originVerification.previousSecretVersionId belong to the manual rotation runbook.*rotation: false/,
    );
    expect(() => edgeStack({ rotationInterval: Duration.hours(36) })).toThrow(/^originVerification.rotationInterval must be a whole number of days from 1 to 1000, got 1 day 12 hours/);
    expect(() => edgeStack({ rotationInterval: Duration.days(1001) })).toThrow(/^originVerification.rotationInterval must be a whole number of days from 1 to 1000/);
    expect(() => edgeStack({ rotationInterval: Duration.days(0) })).toThrow(/^originVerification.rotationInterval/);
  });
});
