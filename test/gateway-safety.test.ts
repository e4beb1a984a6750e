/**
 * Gateway safety and access (issue 10), template side: no cross-caller stage-cache entries,
 * an unspoofable per-viewer rate limit, account-safe logging, CORS on gateway errors and cache
 * keys, reusable authorizers, API keys with usage plans, and the smaller hardening items.
 * The HTTP side (CORS, API keys, per-caller stage cache) is in test/dev-gateway.test.ts.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  ApiAuthorization,
  ApiGatewayAccountLogging,
  CacheableApi,
  CacheableApiProps,
  EdgeWebAcl,
  EdgeWebAclStack,
  RouteTable,
  StatelessFunction,
} from '../lib';
import { CatalogStack } from '../lib/sample';
import { nagApp, synthFindings, testApp } from './support/nag';

const entry = 'lambda/catalog/health.ts';
const PUBLIC = ApiAuthorization.publicAccess('Public test content for everyone');
const ORIGINS = ['https://shop.example.com', 'https://admin.example.com'];
type Json = Record<string, any>;

function userPool(stack: Stack, id: string): cognito.UserPool {
  const pool = new cognito.UserPool(stack, id, {
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { sms: false, otp: true },
    passwordPolicy: { minLength: 12, requireDigits: true, requireSymbols: true, requireUppercase: true, requireLowercase: true },
  });
  // The pool is a fixture, not the construct under test.
  for (const id of ['AwsSolutions-COG3', 'AwsSolutions-COG8']) Validations.of(pool).acknowledge({ id, reason: 'Test fixture user pool' });
  return pool;
}

// One stack with every feature on, under cdk-nag; a second API in it reuses the same descriptions.
const app = nagApp();
const stack = new Stack(app, 'Gateway');
const shoppers = userPool(stack, 'Shoppers');
const staff = userPool(stack, 'Staff');
const authorizerFn = new StatelessFunction(stack, 'AuthorizerFunction', { entry });
Validations.of(authorizerFn).acknowledge({ id: 'Serverless-LambdaDLQ', reason: 'Test fixture: invoked synchronously by API Gateway' });
const SHOPPER = ApiAuthorization.cognito({ userPools: [shoppers] });
const STAFF = ApiAuthorization.cognito({ userPools: [staff], scopes: ['admin/read'], resultsCacheTtl: Duration.seconds(60) });
const TENANT = ApiAuthorization.lambdaRequest({
  handler: authorizerFn,
  identitySources: [apigw.IdentitySource.header('X-Tenant-Token'), apigw.IdentitySource.context('sourceIp')],
});
const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
const routes: RouteTable = {
  'GET /products': { entry, authorization: PUBLIC, cache: { edge: { ttl: Duration.seconds(30) }, gateway: { ttl: Duration.seconds(30) } } },
  'GET /me/orders': { entry, cache: { gateway: { ttl: Duration.seconds(60), perCaller: true } } },
  'PUT /me/orders/{id}': { entry, authorization: SHOPPER.withScopes('orders/write') },
  'GET /admin/reports': { entry, authorization: STAFF },
  'GET /tenant/usage': { entry, authorization: TENANT, cache: { gateway: { ttl: Duration.seconds(30), perCaller: true } } },
  'GET /partner/feed': { entry, authorization: PUBLIC, requireApiKey: true },
};
const api = new CacheableApi(stack, 'Api', {
  authorization: SHOPPER,
  routes,
  stageName: 'prod-v1',
  cors: { allowOrigins: ORIGINS },
  encryptionKey: key,
  cloudWatchRole: true,
  monitoring: false,
  consumers: [
    {
      name: 'partner-a',
      throttle: { rateLimit: 5, burstLimit: 10 },
      quota: { limit: 1000, period: apigw.Period.DAY },
      routeThrottles: { 'GET /partner/feed': { rateLimit: 1, burstLimit: 2 } },
    },
  ],
});
// The same descriptions in a second API of the stack: each API gets its own authorizers.
new CacheableApi(stack, 'SecondApi', {
  authorization: SHOPPER,
  routes: { 'GET /a': { entry }, 'GET /b': { entry, authorization: STAFF } },
  monitoring: false,
});
const findings = synthFindings(app);
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, Json>;
/** The synthesized method of one of the first API's routes. */
const methodOf = (routeKey: string): Json => {
  const cfn = api.methods[routeKey].node.defaultChild as apigw.CfnMethod;
  return resources[stack.resolve(cfn.logicalId)].Properties;
};

test('cdk-nag reports no unacknowledged finding with every gateway feature on', () => {
  expect(findings).toEqual([]);
});

describe('1. the stage cache never serves one caller to another', () => {
  const attempt = (route: RouteTable[string], props: Partial<CacheableApiProps> = {}) => () =>
    new CacheableApi(new Stack(testApp(), 'S'), 'Api', { authorization: ApiAuthorization.iam(), routes: { 'GET /x': route }, monitoring: false, ...props });

  test('an authenticated route with cache.gateway is refused, naming the route and the fix', () => {
    expect(attempt({ entry, cache: { gateway: { ttl: Duration.minutes(5) } } })).toThrow(
      /^routes\['GET \/x'\]\.cache\.gateway: the route is authenticated \(iam\) .*Set cache\.gateway\.perCaller: true to key the cache on the caller's identity source, make the route public, or remove cache\.gateway$/,
    );
    const pool = new cognito.UserPool(new Stack(), 'P');
    expect(attempt({ entry, authorization: ApiAuthorization.cognito({ userPools: [pool] }), cache: { gateway: { ttl: Duration.minutes(5) } } })).toThrow(
      /routes\['GET \/x'\]\.cache\.gateway: the route is authenticated \(cognito\)/,
    );
  });

  test('perCaller is refused where no identity source can key the cache, and on public routes', () => {
    expect(attempt({ entry, cache: { gateway: { ttl: Duration.minutes(5), perCaller: true } } })).toThrow(
      /cache\.gateway\.perCaller: iam authorization cannot key the stage cache per caller: an IAM \(SigV4\) signature changes with every request/,
    );
    const contextOnly = ApiAuthorization.lambdaRequest({ handler: authorizerFn, identitySources: [apigw.IdentitySource.context('sourceIp')] });
    expect(attempt({ entry, authorization: contextOnly, cache: { gateway: { ttl: Duration.minutes(5), perCaller: true } } })).toThrow(
      /lambda-request authorization cannot key the stage cache per caller: its identity sources include no request header or query string/,
    );
    expect(attempt({ entry, authorization: PUBLIC, cache: { gateway: { ttl: Duration.minutes(5), perCaller: true } } })).toThrow(
      /cache\.gateway\.perCaller: the route is public/,
    );
  });

  test("perCaller keys each entry on the caller's identity source (and Origin under CORS)", () => {
    const orders = methodOf('GET /me/orders');
    expect(orders.Integration.CacheKeyParameters).toEqual(['method.request.header.Origin', 'method.request.header.Authorization']);
    expect(orders.RequestParameters).toMatchObject({ 'method.request.header.Authorization': false, 'method.request.header.Origin': false });
    const usage = methodOf('GET /tenant/usage');
    // Only request parameters can key API Gateway's cache: the header, not the context value.
    expect(usage.Integration.CacheKeyParameters).toEqual(['method.request.header.Origin', 'method.request.header.X-Tenant-Token']);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ResourcePath: '/~1me~1orders', HttpMethod: 'GET', CachingEnabled: true, CacheTtlInSeconds: 60, CacheDataEncrypted: true }),
      ]),
    });
  });
});

describe('2. the per-viewer rate limit keys on an address the viewer cannot choose', () => {
  test('EdgeWebAcl: CLOUDFRONT scope, rate-based on the connection address, no forwarded-IP header anywhere', () => {
    const edgeApp = testApp();
    const edgeStack = new EdgeWebAclStack(edgeApp, 'EdgeWaf', { rateLimit: 300, evaluationWindowSeconds: 60 });
    expect(edgeStack.region).toBe('us-east-1');
    const acl = Object.values(Template.fromStack(edgeStack).findResources('AWS::WAFv2::WebACL'))[0] as Json;
    edgeApp.synth(); // written under .test-assemblies for cfn-lint
    expect(acl.Properties).toMatchObject({ Scope: 'CLOUDFRONT', DefaultAction: { Allow: {} } });
    expect(acl.Properties.Rules).toEqual([
      expect.objectContaining({
        Name: 'RateLimitPerViewer',
        Action: { Block: { CustomResponse: expect.objectContaining({ ResponseCode: 429 }) } },
        Statement: { RateBasedStatement: { Limit: 300, EvaluationWindowSec: 60, AggregateKeyType: 'IP' } },
      }),
    ]);
    expect(JSON.stringify(acl)).not.toMatch(/ForwardedIPConfig|FORWARDED_IP|X-Forwarded-For/i);
  });

  test('the sample stack puts the edge web ACL on its distribution', () => {
    const arn = 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/edge/0a1b2c3d-4e5f';
    const catalog = new CatalogStack(testApp(), 'Catalog', { edgeWebAclArn: arn });
    const distribution = Object.values(Template.fromStack(catalog).findResources('AWS::CloudFront::Distribution'))[0] as Json;
    expect(distribution.Properties.DistributionConfig.WebACLId).toBe(arn);
  });

  test('the regional web ACL of origin verification holds no rate-based rule', () => {
    const acls = Object.values(template.findResources('AWS::WAFv2::WebACL')) as Json[];
    expect(acls.map((a) => a.Properties.Scope)).toEqual(['REGIONAL']);
    expect(JSON.stringify(acls)).not.toMatch(/RateBasedStatement|ForwardedIPConfig|FORWARDED_IP/);
  });

  test('EdgeWebAcl outside us-east-1 and bad windows are refused', () => {
    const euStack = new Stack(new App(), 'Eu', { env: { region: 'eu-west-1' } });
    expect(() => new EdgeWebAcl(euStack, 'Acl')).toThrow(/^EdgeWebAcl: a CLOUDFRONT-scope web ACL must be created in us-east-1, not eu-west-1/);
    expect(() => new EdgeWebAclStack(new App(), 'W', { env: { region: 'eu-west-1' } })).toThrow(/^EdgeWebAclStack: env.region must be us-east-1/);
    expect(() => new EdgeWebAcl(new Stack(new App(), 'U', { env: { region: 'us-east-1' } }), 'Acl', { evaluationWindowSeconds: 30 })).toThrow(
      /^evaluationWindowSeconds must be one of 60, 120, 300, 600, got 30/,
    );
  });
});

describe('3. account-level API Gateway logging is never a side effect of an API', () => {
  const synth = (props: Partial<CacheableApiProps>, flag?: boolean) => {
    const s = new Stack(testApp(flag === undefined ? {} : { context: { '@aws-cdk/aws-apigateway:disableCloudWatchRole': flag } }), 'S');
    new CacheableApi(s, 'Api', { authorization: PUBLIC, routes: { 'GET /x': { entry } }, monitoring: false, ...props });
    return Template.fromStack(s);
  };

  test.each([undefined, true, false])('by default (disableCloudWatchRole flag %s) no account setting and no logging role', (flag) => {
    const t = synth({}, flag);
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    const roles = Object.values(t.findResources('AWS::IAM::Role')) as Json[];
    expect(roles.filter((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('apigateway.amazonaws.com'))).toEqual([]);
  });

  test('cloudWatchRole: false works', () => {
    synth({ cloudWatchRole: false }).resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  test('cloudWatchRole: true sets the account role once, retained, before the stage', () => {
    const [accountId, account] = Object.entries(template.findResources('AWS::ApiGateway::Account'))[0] as [string, Json];
    expect(Object.keys(template.findResources('AWS::ApiGateway::Account'))).toHaveLength(1);
    expect(account).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const roleId = account.Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
    expect(resources[roleId]).toMatchObject({ Type: 'AWS::IAM::Role', DeletionPolicy: 'Retain' });
    const stage = Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::Stage' && r.Properties.StageName === 'prod-v1')!;
    expect(stage.DependsOn).toEqual(expect.arrayContaining([accountId]));
  });

  test('the sample sets the account role only when asked, retained', () => {
    const t = Template.fromStack(new CatalogStack(testApp(), 'Catalog', { apiGatewayAccountLogging: true }));
    t.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('ApiGatewayAccountLogging is RETAIN by default and one per stack', () => {
    const s = new Stack(testApp(), 'Account');
    new ApiGatewayAccountLogging(s, 'Logging');
    Template.fromStack(s).hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
    expect(() => new ApiGatewayAccountLogging(s, 'Again')).toThrow(/^ApiGatewayAccountLogging: a stack holds at most one/);
  });
});

describe('4. CORS on gateway errors, cache keys and handler environments', () => {
  test('gateway errors echo the request Origin with Vary: Origin when several origins are allowed', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX', 'BAD_REQUEST_BODY', 'BAD_REQUEST_PARAMETERS']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: Match.objectLike({
          'gatewayresponse.header.Access-Control-Allow-Origin': 'method.request.header.Origin',
          'gatewayresponse.header.Vary': "'Origin'",
        }),
      });
    }
    expect(JSON.stringify(template.findResources('AWS::ApiGateway::GatewayResponse'))).not.toContain('Allow-Credentials');
  });

  test('pre-flight answers every allowed origin', () => {
    const options = Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.HttpMethod === 'OPTIONS')!;
    const template = JSON.stringify(options.Properties.Integration.IntegrationResponses);
    expect(template).toContain('https://admin.example.com');
    expect(options.Properties.Integration.IntegrationResponses[0].ResponseParameters['method.response.header.Vary']).toBe("'Origin'");
  });

  test('an edge-cached route keys on Origin at CloudFront, and each function knows the allowed origins', () => {
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({ HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Origin'] } }),
      }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'GET /products handler',
      Environment: { Variables: Match.objectLike({ ROUTE_CORS_ALLOW_ORIGINS: ORIGINS.join(','), ROUTE_VARY: 'Origin' }) },
    });
  });

  test('origins that browsers would not match are refused', () => {
    const build = (allowOrigins: string[], allowCredentials?: boolean) => () =>
      new CacheableApi(new Stack(testApp(), 'S'), 'Api', { authorization: PUBLIC, routes: { 'GET /x': { entry } }, cors: { allowOrigins, allowCredentials }, monitoring: false });
    expect(build(['https://shop.example.com/'])).toThrow(/^cors\.allowOrigins: "https:\/\/shop\.example\.com\/" is not an origin/);
    expect(build(['*'], true)).toThrow(/^cors\.allowCredentials: browsers refuse credentials with Access-Control-Allow-Origin "\*"/);
    expect(build([])).toThrow(/^cors\.allowOrigins must list at least one origin/);
  });
});

describe('5. authorizers are descriptions', () => {
  test('several pools and a Lambda authorizer in one API, and the same values in a second API', () => {
    const authorizers = Object.values(template.findResources('AWS::ApiGateway::Authorizer')) as Json[];
    // Api: shoppers, staff, tenant; SecondApi: shoppers, staff.
    expect(authorizers.map((a) => a.Properties.Type).sort()).toEqual(['COGNITO_USER_POOLS', 'COGNITO_USER_POOLS', 'COGNITO_USER_POOLS', 'COGNITO_USER_POOLS', 'REQUEST']);
    expect(new Set(authorizers.map((a) => JSON.stringify(a.Properties.RestApiId))).size).toBe(2);
  });

  test('per-route OAuth scopes share the authorizer', () => {
    const write = methodOf('PUT /me/orders/{id}');
    const read = methodOf('GET /me/orders');
    expect(write.AuthorizationScopes).toEqual(['orders/write']);
    expect(read.AuthorizationScopes).toBeUndefined();
    expect(write.AuthorizerId).toEqual(read.AuthorizerId);
    expect(methodOf('GET /admin/reports').AuthorizationScopes).toEqual(['admin/read']);
  });

  test('result-cache TTLs: Cognito 300 s by default, Lambda authorizers off unless set', () => {
    const ttls = (Object.values(template.findResources('AWS::ApiGateway::Authorizer')) as Json[]).map((a) => [a.Properties.Type, a.Properties.AuthorizerResultTtlInSeconds]);
    expect(ttls).toEqual(expect.arrayContaining([['COGNITO_USER_POOLS', 300], ['COGNITO_USER_POOLS', 60], ['REQUEST', 0]]));
    expect(() => ApiAuthorization.lambdaToken({ handler: authorizerFn, resultsCacheTtl: Duration.hours(2) })).toThrow(
      /^ApiAuthorization\.lambdaToken: resultsCacheTtl must be a whole number of seconds between 0 and 3600, got 7200/,
    );
    expect(() => ApiAuthorization.iam().withScopes('a')).toThrow(/^withScopes: OAuth scopes apply to Cognito authorization, not iam/);
  });
});

describe('6. API keys and usage plans', () => {
  test('a generated key in Secrets Manager, never a literal in the template', () => {
    const keys = Object.values(template.findResources('AWS::ApiGateway::ApiKey')) as Json[];
    expect(keys).toHaveLength(1);
    expect(JSON.stringify(keys[0].Properties.Value)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:",\{"Ref":"[A-Za-z0-9]+"\},":SecretString:::\}\}"\]\]\}$/);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 40, ExcludePunctuation: true, IncludeSpace: false },
      KmsKeyId: Match.anyValue(),
    });
  });

  test('a usage plan with throttle, quota and a per-route throttle; the route requires the key', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 5, BurstLimit: 10 },
      Quota: { Limit: 1000, Period: 'DAY' },
      ApiStages: [Match.objectLike({ Throttle: { '/partner/feed/GET': { RateLimit: 1, BurstLimit: 2 } } })],
    });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    expect(methodOf('GET /partner/feed').ApiKeyRequired).toBe(true);
    expect(methodOf('GET /products').ApiKeyRequired).toBeUndefined();
  });

  test('a keyed write sharing an edge-cached path gets its x-api-key forwarded by CloudFront', () => {
    const s = new Stack(testApp(), 'KeyedWrite');
    new CacheableApi(s, 'Api', {
      authorization: PUBLIC,
      monitoring: false,
      consumers: [{ name: 'writer' }],
      routes: {
        'GET /notes/{id}': { entry, cache: { edge: { ttl: Duration.seconds(30) } } },
        'PUT /notes/{id}': { entry, requireApiKey: true },
      },
    });
    Template.fromStack(s).hasResourceProperties('AWS::CloudFront::OriginRequestPolicy', {
      OriginRequestPolicyConfig: Match.objectLike({ HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Content-Type', 'X-Api-Key'] } }),
    });
  });

  test('keys that would limit nothing or be bypassed are refused', () => {
    const build = (props: Partial<CacheableApiProps>) => () =>
      new CacheableApi(new Stack(testApp(), 'S'), 'Api', { authorization: PUBLIC, routes: { 'GET /x': { entry } }, monitoring: false, ...props });
    expect(build({ routes: { 'GET /x': { entry, requireApiKey: true } } })).toThrow(/^routes\['GET \/x'\]\.requireApiKey: the API has no consumers/);
    expect(build({ consumers: [{ name: 'a' }] })).toThrow(/^consumers: no route sets requireApiKey/);
    expect(build({ routes: { 'GET /x': { entry, requireApiKey: true, cache: { edge: { ttl: Duration.seconds(5) } } } }, consumers: [{ name: 'a' }] })).toThrow(
      /requireApiKey: an edge-cached route is answered by CloudFront without the key being checked/,
    );
    const keyed = { 'GET /x': { entry, requireApiKey: true } };
    expect(build({ routes: keyed, consumers: [{ name: 'a b' }] })).toThrow(/^consumers\[0\]\.name must be 1 to 64 letters, digits, - or _/);
    expect(build({ routes: keyed, consumers: [{ name: 'a', quota: { limit: 0, period: apigw.Period.DAY } }] })).toThrow(/^consumers\[0\]\.quota\.limit must be an integer between 1/);
    expect(build({ routes: keyed, consumers: [{ name: 'a', routeThrottles: { 'GET /y': { rateLimit: 1, burstLimit: 1 } } }] })).toThrow(
      /^consumers\[0\]\.routeThrottles\['GET \/y'\]: not a route with requireApiKey/,
    );
  });
});

describe('7. hyphenated stages and one encryption key for logs and secrets', () => {
  test('stage prod-v1', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'prod-v1' });
  });

  test('every log group and secret of the API uses the key, which lets CloudWatch Logs use it', () => {
    const keyId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::KMS::Key')![0];
    // Logical ids of the first API's resources start with its construct id.
    const ofApi = (type: string) => Object.entries(resources).filter(([id, r]) => r.Type === type && /^Api[A-Z]/.test(id)).map(([, r]) => r);
    const logGroups = ofApi('AWS::Logs::LogGroup');
    const secrets = ofApi('AWS::SecretsManager::Secret');
    expect(logGroups.length).toBeGreaterThanOrEqual(7); // access logs, 6 route functions, stage-cache setter
    expect(secrets).toHaveLength(2); // API key, origin verification
    for (const r of [...logGroups, ...secrets]) expect(JSON.stringify(r.Properties.KmsKeyId)).toContain(keyId);
    expect(JSON.stringify(resources[keyId].Properties.KeyPolicy)).toContain('kms:EncryptionContext:aws:logs:arn');
  });
});
