import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { ApiAuthorization, CacheableApi, CacheableApiProps, RouteTable } from '../lib';
import { nagApp, synthFindings } from './support/nag';
import { normalizedTemplate } from './support/template';

const entry = 'lambda/catalog/health.ts';
const publicReads = ApiAuthorization.publicAccess('Public test content for everyone');

function routes(gatewayTtl?: Duration): RouteTable {
  return {
    'GET /things': {
      entry,
      authorization: publicReads,
      request: { queryStrings: { page: true }, headers: { 'Accept-Language': false } },
      cache: {
        gateway: gatewayTtl ? { ttl: gatewayTtl } : undefined,
        key: { queryStrings: ['page'], headers: ['Accept-Language'] },
      },
    },
    'GET /things/{id}': { entry, authorization: publicReads, cache: { gateway: gatewayTtl ? { ttl: gatewayTtl } : undefined } },
    'POST /things': { entry },
  };
}

// Two stacks in one app, synthesized once: the stage cache on, and the same API with it off.
const app = nagApp();
const cachedStack = new Stack(app, 'Cached');
const pool = new cognito.UserPool(cachedStack, 'Users', { mfa: cognito.Mfa.REQUIRED, mfaSecondFactor: { sms: false, otp: true }, passwordPolicy: { minLength: 12, requireDigits: true, requireSymbols: true, requireUppercase: true, requireLowercase: true } });
// The pool is a fixture, not the construct under test.
for (const id of ['AwsSolutions-COG3', 'AwsSolutions-COG8']) Validations.of(pool).acknowledge({ id, reason: 'Test fixture user pool' });
const cached = new CacheableApi(cachedStack, 'Api', {
  authorization: ApiAuthorization.cognito([pool]),
  routes: routes(Duration.minutes(5)),
  throttle: { rateLimit: 50, burstLimit: 20 },
  cors: { allowOrigins: ['https://shop.example.com'] },
  gatewayCacheSize: '1.6',
});
const uncachedStack = new Stack(app, 'Uncached');
new CacheableApi(uncachedStack, 'Api', { authorization: ApiAuthorization.iam(), routes: routes() });
const findings = synthFindings(app);
const cachedTemplate = Template.fromStack(cachedStack);
const uncachedTemplate = Template.fromStack(uncachedStack);

test('snapshots of both stacks', () => {
  expect(normalizedTemplate(cachedStack)).toMatchSnapshot('stage cache on');
  expect(normalizedTemplate(uncachedStack)).toMatchSnapshot('stage cache off');
});

test('cdk-nag reports no unacknowledged finding', () => {
  expect(findings).toEqual([]);
});

describe('API Gateway stage cache', () => {
  test('on: cache cluster sized, GET methods cached with their TTL, encrypted', () => {
    cachedTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      CacheClusterEnabled: true,
      CacheClusterSize: '1.6',
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', CachingEnabled: false, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 20 }),
        Match.objectLike({ HttpMethod: 'GET', ResourcePath: '/~1things', CachingEnabled: true, CacheTtlInSeconds: 300, CacheDataEncrypted: true, LoggingLevel: 'ERROR', ThrottlingRateLimit: 50 }),
        Match.objectLike({ HttpMethod: 'GET', ResourcePath: '/~1things~1{id}', CachingEnabled: true, CacheTtlInSeconds: 300, CacheDataEncrypted: true, MetricsEnabled: true, ThrottlingBurstLimit: 20 }),
      ]),
    });
  });

  test('on: the cache key is the path, the declared query strings and headers', () => {
    cachedTemplate.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: {
        'method.request.querystring.page': true,
        'method.request.header.Accept-Language': false,
      },
      Integration: Match.objectLike({
        // Origin joins the key of a cached route under CORS: each site gets its own Allow-Origin.
        CacheKeyParameters: ['method.request.querystring.page', 'method.request.header.Accept-Language', 'method.request.header.Origin'],
      }),
    });
    cachedTemplate.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      Integration: Match.objectLike({ CacheKeyParameters: ['method.request.path.id', 'method.request.header.Origin'] }),
    });
  });

  test('on: cache-control invalidation needs authorization and otherwise fails with 403', () => {
    const resources = cachedTemplate.findResources('Custom::AWS');
    expect(Object.keys(resources)).toHaveLength(1);
    const create = JSON.stringify((Object.values(resources)[0] as any).Properties.Create);
    for (const path of ['/*/*', '/~1things/GET', '/~1things~1{id}/GET']) {
      expect(create).toContain(`{\\"op\\":\\"replace\\",\\"path\\":\\"${path}/caching/requireAuthorizationForCacheControl\\",\\"value\\":\\"true\\"}`);
      expect(create).toContain(`{\\"op\\":\\"replace\\",\\"path\\":\\"${path}/caching/unauthorizedCacheControlHeaderStrategy\\",\\"value\\":\\"FAIL_WITH_403\\"}`);
    }
    cachedTemplate.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'apigateway:PATCH', Resource: Match.objectLike({ 'Fn::Join': Match.anyValue() }) })] },
    });
    uncachedTemplate.resourceCountIs('Custom::AWS', 0);
  });

  test('off: the template says so explicitly, so a deployed cache is really turned off (aws-cdk#32342)', () => {
    const stage = Object.values(uncachedTemplate.findResources('AWS::ApiGateway::Stage'))[0] as any;
    expect(stage.Properties.CacheClusterEnabled).toBe(false);
    expect(stage.Properties.CacheClusterSize).toBeUndefined();
    expect(stage.Properties.MethodSettings).toEqual([expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', CachingEnabled: false })]);
    for (const m of Object.values(uncachedTemplate.findResources('AWS::ApiGateway::Method'))) {
      expect((m as any).Properties.Integration?.CacheKeyParameters).toBeUndefined();
    }
  });
});

describe('authorization', () => {
  test('the API default applies unless a route overrides it', () => {
    cachedTemplate.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: Match.anyValue() });
    cachedTemplate.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    uncachedTemplate.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'AWS_IAM' });
    uncachedTemplate.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', AuthorizationType: 'NONE' });
  });

  test('CORS: pre-flight on every resource and the origin on gateway errors', () => {
    cachedTemplate.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'OPTIONS' });
    cachedTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'DEFAULT_4XX',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Access-Control-Allow-Origin': "'https://shop.example.com'", 'gatewayresponse.header.Vary': "'Origin'" }),
    });
  });
});

test('cached routes expose their functions and methods by route key', () => {
  expect(Object.keys(cached.functions)).toEqual(['GET /things', 'GET /things/{id}', 'POST /things']);
  expect(cached.methods['GET /things']).toBeInstanceOf(apigw.Method);
});

test('functionFor finds a route by its key as written or normalised, and a miss names the known routes', () => {
  expect(cached.functionFor('GET /things')).toBe(cached.functions['GET /things']);
  expect(cached.functionFor(' get /things/ ')).toBe(cached.functions['GET /things']);
  expect(() => cached.functionFor('GET /thigns')).toThrow(
    /^functionFor\('GET \/thigns'\): no route "GET \/thigns" in this API; its routes: GET \/things, GET \/things\/\{id\}, POST \/things$/,
  );
});

describe('invalid props throw at synth, naming the prop and the allowed values', () => {
  const base: CacheableApiProps = { authorization: ApiAuthorization.iam(), routes: { 'GET /x': { entry } } };
  const build = (props: Partial<CacheableApiProps>) => () =>
    new CacheableApi(new Stack(undefined, 'S'), 'Api', { ...base, ...props } as CacheableApiProps);

  test.each<[string, Partial<CacheableApiProps>, RegExp]>([
    ['no authorization', { authorization: undefined }, /authorization is required: use ApiAuthorization\.iam\(\), \.cognito\(\.\.\.\), \.authorizer\(\.\.\.\) or \.publicAccess\(reason\)/],
    ['rate limit of 0', { throttle: { rateLimit: 0, burstLimit: 10 } }, /throttle\.rateLimit must be an integer between 1 and 10000 requests per second, got 0/],
    ['burst above 5000', { throttle: { rateLimit: 10, burstLimit: 9000 } }, /throttle\.burstLimit must be an integer between 1 and 5000 requests, got 9000/],
    ['a bad stage name', { stageName: 'v 1' }, /stageName must be 1 to 128 letters, digits, hyphens or underscores, got "v 1"/],
    ['an edge-cached authenticated route', { routes: { 'GET /x': { entry, cache: { edge: { ttl: Duration.seconds(5) } } } } }, /routes\['GET \/x'\]\.cache\.edge: an authenticated route cannot be cached at the edge/],
    ['a missing handler file', { routes: { 'GET /x': { entry: 'lambda/nope.ts' } } }, /entry: handler file lambda\/nope\.ts does not exist/],
    ['a gateway cache size outside the list', { gatewayCacheSize: '2', routes: { 'GET /x': { entry, cache: { gateway: { ttl: Duration.seconds(5) } } } } }, /gatewayCacheSize must be one of 0\.5, 1\.6, 6\.1, 13\.5, 28\.4, 58\.2, 118, 237 \(GB\), got "2"/],
  ])('%s', (_name, props, message) => {
    expect(build(props)).toThrow(message);
  });

  test('a public API needs a reason', () => {
    expect(() => ApiAuthorization.publicAccess('')).toThrow(/publicAccess\(reason\): give a reason/);
  });
});
