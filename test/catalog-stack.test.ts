import { CfnElement } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CatalogStack } from '../lib/sample';
import { nagApp, synthFindings } from './support/nag';
import { normalizedTemplate } from './support/template';

// One synthesis for the whole file: the sample stack as `cdk synth` builds it, nag included.
const app = nagApp();
const stack = new CatalogStack(app, 'CatalogStack');
const findings = synthFindings(app);
const template = Template.fromStack(stack);

const ROUTES = ['GET /items', 'GET /items/{id}', 'PUT /items/{id}', 'DELETE /items/{id}', 'GET /health', 'GET /partner/items'];

function functionOf(routeKey: string) {
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { ROUTE_KEY: routeKey } } },
  });
  expect(Object.keys(fns)).toHaveLength(1);
  return Object.values(fns)[0] as { Properties: Record<string, any> };
}

/** The synthesized method of a route of the sample. */
function methodOf(routeKey: string) {
  const cfn = stack.api.methods[routeKey].node.defaultChild as apigw.CfnMethod;
  return template.toJSON().Resources[stack.resolve(cfn.logicalId)] as { Properties: Record<string, any> };
}

test('cdk-nag AwsSolutions and Serverless checks report no unacknowledged finding', () => {
  expect(findings).toEqual([]);
});

test('template snapshot (asset hashes normalised)', () => {
  expect(normalizedTemplate(stack)).toMatchSnapshot();
});

describe('route functions', () => {
  test('one function per route, newest Node.js runtime on ARM64 with tracing and JSON logs', () => {
    const routeFunctions = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { ROUTE_KEY: Match.anyValue() } } } });
    expect(Object.keys(routeFunctions)).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const fn = functionOf(route);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Timeout: 10,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON' },
      });
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBeUndefined(); // no source-map cost
    }
    expect(functionOf('GET /health').Properties.MemorySize).toBe(256);
    expect(functionOf('GET /items').Properties.MemorySize).toBe(512);
  });

  test('each function logs to its own log group kept one month', () => {
    for (const route of ROUTES) {
      const logGroupId = functionOf(route).Properties.LoggingConfig.LogGroup.Ref;
      expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
    }
    const fn = functionOf('GET /items/{id}');
    expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/^ApiGetItemsByIdFunctionLogGroup/) });
  });

  test('roles carry no managed policy and each handler gets only its table action', () => {
    const roles = template.toJSON().Resources;
    for (const route of ROUTES) {
      const roleId = functionOf(route).Properties.Role['Fn::GetAtt'][0];
      expect(roles[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    }
    const actionsOf = (route: string) => {
      const roleRef = functionOf(route).Properties.Role['Fn::GetAtt'][0];
      const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleRef }] } });
      return Object.values(policies)
        .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
        .flatMap((s: any) => [s.Action].flat())
        .filter((a: string) => a.startsWith('dynamodb:'));
    };
    expect(actionsOf('GET /items')).toEqual(['dynamodb:Scan']);
    expect(actionsOf('GET /items/{id}')).toEqual(['dynamodb:GetItem']);
    expect(actionsOf('PUT /items/{id}')).toEqual(['dynamodb:PutItem']);
    expect(actionsOf('DELETE /items/{id}')).toEqual(['dynamodb:DeleteItem']);
    expect(actionsOf('GET /health')).toEqual([]);
  });

  test('VPC functions get "*" only for the Describe actions; ENI changes stay in the account and region', () => {
    const role = functionOf('GET /items/{id}').Properties.Role['Fn::GetAtt'][0];
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const ec2 = statements.filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('ec2:')));
    // cdk init's minimizePolicies merges every "*" statement (X-Ray's too) into one.
    const wildcard = ec2.filter((st: any) => st.Resource === '*').flatMap((st: any) => [st.Action].flat()).filter((a: string) => a.startsWith('ec2:'));
    expect(wildcard.sort()).toEqual(['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets']);
    const scoped = ec2.filter((st: any) => st.Resource !== '*');
    expect(scoped).toHaveLength(1);
    expect([scoped[0].Action].flat().sort()).toEqual([
      'ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:UnassignPrivateIpAddresses',
    ]);
    expect(JSON.stringify(scoped[0].Resource)).toContain(':ec2:');
    expect(JSON.stringify(scoped[0].Resource)).toContain('AWS::AccountId');
  });

  test('routes tell their handler the cache settings through the environment', () => {
    expect(functionOf('GET /items').Properties.Environment.Variables).toMatchObject({
      ROUTE_CACHE_CONTROL: 'public, max-age=0, s-maxage=30, stale-while-revalidate=30, stale-if-error=300',
      ROUTE_CACHE_KEY_QUERY: 'limit,cursor',
      DATA_CACHE_TTL_SECONDS: '60',
      DATA_CACHE_NEGATIVE_TTL_SECONDS: '5',
      TABLE_NAME: { Ref: expect.stringMatching(/^Items/) },
    });
    expect(functionOf('PUT /items/{id}').Properties.Environment.Variables).toMatchObject({
      ROUTE_CACHE_CONTROL: 'private, no-store',
      ROUTE_MAX_BODY_BYTES: '16384',
    });
  });
});

describe('REST API', () => {
  test('is regional, traced, access-logged as JSON and throttled', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('^\\{"requestId":"\\$context.requestId"') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
          CachingEnabled: false,
        }),
      ]),
      CacheClusterEnabled: false,
    });
  });

  test('reads are public by explicit choice, writes need IAM', () => {
    expect(methodOf('GET /health').Properties.AuthorizationType).toBe('NONE');
    expect(methodOf('GET /items').Properties.AuthorizationType).toBe('NONE');
    expect(methodOf('GET /items/{id}').Properties.AuthorizationType).toBe('NONE');
    expect(methodOf('PUT /items/{id}').Properties.AuthorizationType).toBe('AWS_IAM');
    expect(methodOf('DELETE /items/{id}').Properties.AuthorizationType).toBe('AWS_IAM');
  });

  test('the partner feed needs an API key whose value lives in Secrets Manager, with a usage plan', () => {
    expect(methodOf('GET /partner/items').Properties).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: true });
    expect(methodOf('GET /items').Properties.ApiKeyRequired).toBeUndefined();
    const keys = Object.values(template.findResources('AWS::ApiGateway::ApiKey')) as any[];
    expect(keys).toHaveLength(1);
    expect(JSON.stringify(keys[0].Properties.Value)).toContain('{{resolve:secretsmanager:');
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 10, BurstLimit: 20 },
      Quota: { Limit: 10000, Period: 'DAY' },
    });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    expect(Object.keys(template.toJSON().Outputs)).toContain('PartnerApiKeySecretArn');
  });

  test('the API leaves the account-level logging setting alone', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  test('every method is validated: path and query parameters, and the PUT body by model', () => {
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    for (const m of Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: Match.not('OPTIONS') } }))) {
      expect((m as any).Properties.RequestValidatorId).toEqual({ Ref: expect.stringMatching(/RequestValidator/) });
    }
    expect(methodOf('GET /items').Properties.RequestParameters).toEqual({
      'method.request.querystring.limit': false,
      'method.request.querystring.cursor': false,
    });
    expect(methodOf('GET /items/{id}').Properties.RequestParameters).toEqual({ 'method.request.path.id': true });
    const put = methodOf('PUT /items/{id}');
    expect(put.Properties.RequestModels).toEqual({ 'application/json': { Ref: expect.stringMatching(/PutItemsByIdBody/) } });
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({ required: ['name', 'price'], additionalProperties: false }),
    });
  });

  test('API Gateway answers its own 4xx and 5xx as JSON, never cached', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX', 'BAD_REQUEST_BODY', 'BAD_REQUEST_PARAMETERS']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: {
          'gatewayresponse.header.Content-Type': "'application/json'",
          'gatewayresponse.header.Cache-Control': "'no-store'",
        },
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
      });
    }
  });

  test('proxy integrations do not grant the test-invoke permission', () => {
    for (const p of Object.values(template.findResources('AWS::Lambda::Permission'))) {
      expect(JSON.stringify((p as any).Properties.SourceArn)).not.toContain('test-invoke-stage');
    }
  });
});

test('the items table is on-demand, encrypted, point-in-time recoverable, retained and streams changes', () => {
  template.hasResource('AWS::DynamoDB::GlobalTable', {
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: Match.objectLike({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true })],
    }),
  });
});

describe('cache layers wired into the sample', () => {
  test('routes with a data-cache spec run in the cache VPC and know its endpoint; health does not', () => {
    for (const route of ['GET /items', 'GET /items/{id}', 'PUT /items/{id}', 'DELETE /items/{id}']) {
      const fn = functionOf(route);
      expect(fn.Properties.VpcConfig?.SubnetIds).toHaveLength(2);
      expect(fn.Properties.Environment.Variables).toMatchObject({
        DATA_CACHE_ENGINE: 'valkey-serverless',
        DATA_CACHE_TLS: 'true',
        DATA_CACHE_AUTH: 'iam',
        DATA_CACHE_ENDPOINT: expect.anything(),
        DATA_CACHE_KEY_PREFIX: 'CatalogStack',
      });
    }
    expect(functionOf('GET /health').Properties.VpcConfig).toBeUndefined();
    template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
    template.resourcePropertiesCountIs('AWS::EC2::NatGateway', {}, 0);
  });

  test('CloudFront fronts the API with one cached behavior per edge-cached route', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.resourceCountIs('AWS::CloudFront::CachePolicy', 2);
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        DefaultTTL: 30,
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
          QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['limit', 'cursor'] },
        }),
      }),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  test('the table stream drives the data purge inside the VPC, which forwards purged changes to the edge purge outside it', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    const fromStream = mappings.filter((m) => m.Properties.EventSourceArn['Fn::GetAtt'][1] === 'StreamArn');
    // Only the data purge reads the stream: the edge purge waits for it (its request queue).
    expect(fromStream).toHaveLength(1);
    expect(fromStream[0].Properties).toMatchObject({
      FunctionName: { Ref: stack.getLogicalId(stack.cacheSync.dataPurge!.node.defaultChild as CfnElement) },
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'LATEST',
      DestinationConfig: { OnFailure: { Destination: expect.anything() } },
    });
    const fromQueues = mappings.filter((m) => m.Properties.EventSourceArn['Fn::GetAtt'][1] === 'Arn');
    expect(fromQueues.map((m) => m.Properties.FunctionResponseTypes)).toEqual([['ReportBatchItemFailures'], ['ReportBatchItemFailures']]);
    const purgeFns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { DISTRIBUTION_ID: Match.anyValue() } } } });
    expect(Object.keys(purgeFns)).toHaveLength(1);
    expect((Object.values(purgeFns)[0] as any).Properties.VpcConfig).toBeUndefined();
    expect((Object.values(purgeFns)[0] as any).Properties.Environment.Variables.EDGE_PURGE_PATHS).toBe('/items,/items?*,/items/{id}');
  });

  test('outputs name what the smoke command reads', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    for (const name of ['ApiUrl', 'DistributionDomainName', 'HealthFunctionName', 'TableName']) {
      expect(outputs).toContain(name);
    }
  });
});

describe('the sync queues are watched: a lagging SQS-fed purge has no iterator age, so its queue age is alarmed', () => {
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  const ref = (queue: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [stack.getLogicalId(queue.node.defaultChild as CfnElement), 'QueueName'] });
  /** Alarms whose one metric is `metricName` of `queue` (an alarm with a labelled metric renders it under Metrics). */
  const alarmOn = (metricName: string, queue: { node: { defaultChild?: unknown } }) =>
    Object.values(alarms).filter((a) => {
      const metrics = a.Properties.Metrics as Array<{ MetricStat?: { Metric: Record<string, unknown>; Stat: string } }> | undefined;
      const metric = metrics?.length === 1 ? metrics[0].MetricStat?.Metric : undefined;
      return metric?.MetricName === metricName && JSON.stringify(metric.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: ref(queue) }]);
    });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const statOf = (alarm: { [key: string]: any }) => ({
    namespace: alarm.Properties.Metrics[0].MetricStat.Metric.Namespace,
    stat: alarm.Properties.Metrics[0].MetricStat.Stat,
  });

  test.each(['edgeRequests', 'dataRetries'] as const)('%s: oldest message older than iteratorAge (300 s) alarms, and notifies', (name) => {
    const [alarm, ...more] = alarmOn('ApproximateAgeOfOldestMessage', stack.cacheSync[name]!);
    expect(more).toEqual([]);
    expect(statOf(alarm)).toEqual({ namespace: 'AWS/SQS', stat: 'Maximum' });
    expect(alarm.Properties).toMatchObject({ Threshold: 300, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });

  test.each(['edgeFailures', 'dataFailures', 'deadLetterQueue'] as const)('%s: one message given up on alarms, and notifies', (name) => {
    const [alarm, ...more] = alarmOn('ApproximateNumberOfMessagesVisible', stack.cacheSync[name]!);
    expect(more).toEqual([]);
    expect(statOf(alarm)).toEqual({ namespace: 'AWS/SQS', stat: 'Maximum' });
    expect(alarm.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });
});
