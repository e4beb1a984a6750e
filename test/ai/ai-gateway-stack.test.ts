import { Match, Template } from 'aws-cdk-lib/assertions';
import { AiGatewayStack } from '../../lib/sample/ai-gateway-stack';
import { nagApp, synthFindings } from '../support/nag';
import { normalizedTemplate } from '../support/template';

// One synthesis for the file, cdk-nag included (CI runs cfn-lint over the written template).
const app = nagApp();
const stack = new AiGatewayStack(app, 'AiGatewayStack');
const findings = synthFindings(app);
const template = Template.fromStack(stack);

function routeFunction(routeKey: string) {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { ROUTE_KEY: routeKey } } } });
  expect(Object.keys(fns)).toHaveLength(1);
  return Object.entries(fns)[0] as [string, { Properties: Record<string, any> }];
}

function policyOf(functionLogicalId: string) {
  const role = (template.toJSON().Resources[functionLogicalId].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === role));
  expect(policies).toHaveLength(1);
  return (policies[0] as any).Properties.PolicyDocument.Statement as Array<Record<string, any>>;
}

test('cdk-nag reports no unacknowledged finding', () => {
  expect(findings).toEqual([]);
});

test('chat route streams through API Gateway and needs an API key; models route needs one too', () => {
  const methods = template.findResources('AWS::ApiGateway::Method', { Properties: { OperationName: 'PostV1ChatCompletions' } });
  const chat = Object.values(methods)[0] as any;
  expect(chat.Properties.ApiKeyRequired).toBe(true);
  // A streamed answer may outlast API Gateway's 29 s default: the integration waits as long as the function.
  expect(chat.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM', TimeoutInMillis: 120_000 });
  expect(JSON.stringify(chat.Properties.Integration.Uri)).toContain('/response-streaming-invocations');
  template.hasResourceProperties('AWS::ApiGateway::Method', { OperationName: 'GetV1Models', ApiKeyRequired: true, Integration: Match.objectLike({ Type: 'AWS_PROXY' }) });
  // Only the chat route streams.
  expect(JSON.stringify(template.findResources('AWS::ApiGateway::Method', { Properties: { OperationName: 'GetV1Models' } }))).not.toContain('STREAM');
});

test('chat function runs outside any VPC with the alias table, the DynamoDB store and budgets in its environment', () => {
  const [, fn] = routeFunction('POST /v1/chat/completions');
  expect(fn.Properties.VpcConfig).toBeUndefined();
  expect(fn.Properties.Timeout).toBe(120);
  const vars = fn.Properties.Environment.Variables;
  expect(vars).toMatchObject({ AI_CACHE_STORE: 'dynamodb', AI_CACHE_TTL_SECONDS: '21600', AI_UPSTREAM_TIMEOUT_MS: '60000', AI_METRICS_NAMESPACE: 'CdkCacheableApi/Models' });
  expect(vars.AI_TABLE).toEqual({ Ref: expect.stringMatching('^ModelsTable') });
  const models = JSON.stringify(vars.AI_MODELS);
  // The upstream key is referenced by secret ARN, never present as a value.
  expect(models).toContain('UpstreamApiKey');
  expect(models).toContain('anthropic.claude-3-haiku-20240307-v1:0');
  expect(models).toContain('\\"fallbacks\\":[\\"fast-backup\\"]');
  // Keyed on the API key CacheableApi generated for the consumer named in the budget.
  expect(JSON.stringify(vars.AI_BUDGETS)).toContain('ApiConsumerssampleconsumerKey');
});

test('IAM: Bedrock invoke only on the declared model ids, the upstream secret, and item actions on the table', () => {
  const [id] = routeFunction('POST /v1/chat/completions');
  const statements = policyOf(id);
  const bedrock = statements.filter((s) => JSON.stringify(s.Action).includes('bedrock:'));
  expect(bedrock).toHaveLength(1);
  expect(bedrock[0].Action).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
  expect(JSON.stringify(bedrock[0].Resource)).toMatch(/foundation-model\/anthropic\.claude-3-haiku-20240307-v1:0/);
  expect(JSON.stringify(bedrock[0].Resource)).toMatch(/foundation-model\/amazon\.nova-lite-v1:0/);
  expect(JSON.stringify(bedrock[0].Resource)).not.toContain('*');
  const secret = statements.find((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'))!;
  expect(secret.Resource).toEqual({ Ref: expect.stringMatching('^UpstreamApiKey') });
  const dynamo = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb:'))!;
  expect([...dynamo.Action].sort()).toEqual(['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
  expect(JSON.stringify(dynamo.Resource)).not.toContain('*');
  // The models list reads nothing.
  const [listId] = routeFunction('GET /v1/models');
  expect(JSON.stringify(policyOf(listId))).not.toMatch(/bedrock|secretsmanager|dynamodb/);
});

test('answer/budget table: TTL attribute, point-in-time recovery, encryption', () => {
  template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    SSESpecification: { SSEEnabled: true },
    Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
  });
});

test('the consumer has an API key (value in Secrets Manager) in a usage plan with a throttle and quota, required on both routes', () => {
  template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
  const key = Object.values(template.findResources('AWS::ApiGateway::ApiKey'))[0] as any;
  expect(JSON.stringify(key.Properties.Value)).toContain('resolve:secretsmanager');
  template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
    Throttle: { RateLimit: 5, BurstLimit: 10 },
    Quota: { Limit: 5000, Period: 'DAY' },
    ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
  });
  for (const method of ['POST', 'GET']) template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: method, ApiKeyRequired: true });
  template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
});

test('the API dashboard has a model section per alias: tokens, cache hit ratio, upstream latency, throttles', () => {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = JSON.stringify((dashboards[0] as any).Properties.DashboardBody);
  expect(body).toContain('## Models');
  for (const alias of ['fast', 'fast-backup', 'smart']) expect(body).toContain(`\\"Model\\",\\"${alias}\\"`);
  for (const metric of ['InputTokens', 'TokensSaved', 'CacheHit', 'UpstreamLatency', 'BudgetRejections']) expect(body).toContain(metric);
  expect(body).toContain('CdkCacheableApi/Models');
});

test('template snapshot (asset hashes normalised)', () => {
  expect(normalizedTemplate(stack)).toMatchSnapshot();
});
