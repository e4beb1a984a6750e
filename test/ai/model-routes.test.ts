/** ModelRoutes props: checks at synth, the data-cache (VPC) variant with its Bedrock endpoint, nag and template. */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ApiAuthorization } from '../../lib/api/api-authorization';
import { CacheableApi } from '../../lib/api/cacheable-api';
import { ModelCacheStore, ModelRoutes } from '../../lib/ai/model-routes';
import { ModelTarget } from '../../lib/ai/model-target';
import { DataCache } from '../../lib/data-cache/data-cache';
import { nagApp, synthFindings, testApp } from '../support/nag';

const bedrock = ModelTarget.bedrock('anthropic.claude-3-haiku-20240307-v1:0');

describe('invalid props throw at synth naming the prop and the allowed values', () => {
  const stack = () => new Stack(testApp(), 'S');
  test.each([
    ['empty table', { models: {} }, 'models must declare at least one alias'],
    ['bad alias', { models: { 'bad alias': bedrock } }, 'models: alias "bad alias" must be 1-64 letters'],
    ['unknown fallback', { models: { a: ModelTarget.bedrock('m', { fallbacks: ['b'] }) } }, 'models.a.fallbacks: unknown alias "b"; declared: a'],
    ['bad store', { models: { a: bedrock }, cacheStore: 'redis' as ModelCacheStore }, 'cacheStore must be one of dynamodb, data-cache, none, got "redis"'],
    ['ttl too long', { models: { a: bedrock }, cacheTtl: { toSeconds: () => 8 * 86400 } as never }, 'cacheTtl'],
    ['budget tokens', { models: { a: bedrock }, budgets: { default: { tokens: 0 } } }, 'budgets.default.tokens must be a positive integer, got 0'],
    ['budget period', { models: { a: bedrock }, budgets: { default: { tokens: 5, period: 'week' as 'day' } } }, 'budgets.default.period must be one of day, month, got "week"'],
    ['prefix', { models: { a: bedrock }, pathPrefix: 'v1' }, 'pathPrefix must be empty or like "/v1", got "v1"'],
    ['data cache missing', { models: { a: bedrock }, cacheStore: ModelCacheStore.DATA_CACHE }, 'cacheStore DATA_CACHE needs dataCache'],
    ['budget keyed on nothing', { models: { a: bedrock }, budgets: { consumers: [{ tokens: 5 }] } }, 'budgets.consumers[0]: give exactly one of consumer'],
  ])('%s', (_name, props, message) => {
    expect(() => new ModelRoutes(stack(), 'M', props as never)).toThrow(message);
  });

  test('a budget naming a consumer the API does not have fails at bind, naming the known consumers', () => {
    const s = stack();
    const models = new ModelRoutes(s, 'M', { models: { a: bedrock }, budgets: { consumers: [{ consumer: 'nobody', tokens: 5 }] } });
    const api = new CacheableApi(s, 'Api', {
      authorization: ApiAuthorization.iam(),
      routes: { ...models.routes },
      consumers: [{ name: 'partner' }],
      monitoring: false,
    });
    expect(() => models.bind(api)).toThrow('budgets.consumers[0].consumer: the API has no consumer "nobody"; its consumers are partner');
  });

  test('model routes require an API key, so the API needs consumers', () => {
    const s = stack();
    const models = new ModelRoutes(s, 'M', { models: { a: bedrock } });
    expect(() => new CacheableApi(s, 'Api', { authorization: ApiAuthorization.iam(), routes: { ...models.routes }, monitoring: false })).toThrow(
      "routes['POST /v1/chat/completions'].requireApiKey: the API has no consumers",
    );
  });

  test('targets check their own options', () => {
    expect(() => ModelTarget.openAiCompatible({ baseUrl: 'http://api.example.com/v1', model: 'm', apiKey: undefined as never })).toThrow('baseUrl must be an https:// URL');
    expect(() => ModelTarget.bedrock('bad id with spaces')).toThrow('modelId must be a Bedrock model id');
    expect(() => ModelTarget.bedrock('m', { defaults: { temperature: 3 } })).toThrow('defaults.temperature must be 0 to 2, got 3');
  });

  test('an OpenAI-compatible upstream with the data cache is refused: the isolated VPC has no egress', () => {
    const s = stack();
    const dataCache = new DataCache(s, 'Cache');
    const apiKey = new secretsmanager.Secret(s, 'Key');
    expect(
      () =>
        new ModelRoutes(s, 'M', {
          models: { up: ModelTarget.openAiCompatible({ baseUrl: 'https://api.example.com/v1', model: 'm', apiKey }) },
          cacheStore: ModelCacheStore.DATA_CACHE,
          dataCache,
        }),
    ).toThrow(/models\.up: an OpenAI-compatible upstream needs Internet egress.*use cacheStore: ModelCacheStore\.DYNAMODB/);
  });
});

describe('data-cache store: the chat function in the isolated VPC reaches Bedrock through an interface endpoint', () => {
  const app = nagApp();
  const stack = new Stack(app, 'ModelsInVpc');
  const dataCache = new DataCache(stack, 'Cache');
  const models = new ModelRoutes(stack, 'Models', { models: { fast: bedrock }, cacheStore: ModelCacheStore.DATA_CACHE, dataCache, apiKeyRequired: false });
  const api = new CacheableApi(stack, 'Api', { routes: models.routes, authorization: ApiAuthorization.iam(), dataCache });
  models.bind(api);
  const findings = synthFindings(app);
  const template = Template.fromStack(stack);

  test('cdk-nag reports no unacknowledged finding', () => {
    expect(findings).toEqual([]);
  });

  test('no table without budgets; the function is in the VPC with the data-cache settings and the redis client bundled', () => {
    expect(models.table).toBeUndefined();
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({ ROUTE_KEY: 'POST /v1/chat/completions', AI_CACHE_STORE: 'data-cache', DATA_CACHE_ENGINE: 'valkey-serverless' }) },
    });
  });

  test('a Bedrock runtime interface endpoint with private DNS, open only to the chat function on 443', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.bedrock-runtime']] },
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
    });
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { FromPort: 443, ToPort: 443 } });
    expect(Object.keys(ingress)).toHaveLength(1);
    // From the chat function's own group, not the group the API's other data-cache clients share.
    const chat = Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment?.Variables?.ROUTE_KEY === 'POST /v1/chat/completions') as any;
    expect(Object.values(ingress).map((r: any) => r.Properties.SourceSecurityGroupId)).toEqual(chat.Properties.VpcConfig.SecurityGroupIds);
    expect(JSON.stringify(chat.Properties.VpcConfig.SecurityGroupIds)).toContain('ChatSecurityGroup');
    const endpointGroups = template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('BedrockRuntimeEndpoint') } });
    for (const g of Object.values(endpointGroups) as any[]) expect(g.Properties.SecurityGroupIngress ?? []).toEqual([]);
  });

  test('API keys can be left off', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', { OperationName: 'PostV1ChatCompletions', ApiKeyRequired: Match.absent() });
  });
});
