import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ApiAuthorization } from './api-authorization';
import { dropRedundantRoleDependency } from '../shared/cfn-dependencies';
import { acknowledge } from '../shared/nag';
import type { ParsedRoute } from './route-table';

/** Construct id of the singleton function behind every AwsCustomResource of a stack. */
const PROVIDER_FUNCTION_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

/** Identity sources that can key API Gateway's cache (request headers and query strings). */
const KEYABLE_SOURCE = /^method\.request\.(header|querystring)\.[A-Za-z0-9._~!#$&^`|-]+$/;

/**
 * Refuses a stage cache that would serve one caller's response to another: on a route that
 * is not public, `cache.gateway` needs `perCaller`, and `perCaller` needs an identity source
 * API Gateway can key on.
 */
export function checkGatewayCache(route: ParsedRoute, authorization: ApiAuthorization): void {
  const gateway = route.cache.gateway;
  if (!gateway) return;
  const prop = `routes['${route.key}'].cache.gateway`;
  if (!authorization.authenticated) {
    if (gateway.perCaller) {
      throw new Error(`${prop}.perCaller: the route is public, so there is no caller identity to key on; remove perCaller (public entries are shared by design)`);
    }
    return;
  }
  if (!gateway.perCaller) {
    throw new Error(
      `${prop}: the route is authenticated (${authorization.kind}) and API Gateway answers every authorized caller from one stage-cache entry, so one caller's response would reach the others. ` +
        "Set cache.gateway.perCaller: true to key the cache on the caller's identity source, make the route public, or remove cache.gateway",
    );
  }
  if (authorization.identitySources.filter((s) => KEYABLE_SOURCE.test(s)).length === 0) {
    const why =
      authorization.kind === 'iam'
        ? 'an IAM (SigV4) signature changes with every request, so a per-caller entry would never be reused'
        : 'its identity sources include no request header or query string API Gateway can key on';
    throw new Error(`${prop}.perCaller: ${authorization.kind} authorization cannot key the stage cache per caller: ${why}; remove cache.gateway or use a token-based authorizer`);
  }
}

/**
 * The request parameters that key a gateway-cached route's stage-cache entries: its path
 * parameters, declared key query strings and headers, and for `perCaller` the identity sources
 * of its authorization. The dev server keys its stage-cache emulation on the same list.
 */
export function gatewayCacheKeyParameters(route: ParsedRoute, authorization: ApiAuthorization): string[] {
  const parameters = [
    ...route.pathParameters.map((p) => `method.request.path.${p}`),
    ...route.cache.key.queryStrings.map((q) => `method.request.querystring.${q}`),
    ...route.cache.key.headers.map((h) => `method.request.header.${h}`),
  ];
  if (route.cache.gateway?.perCaller) {
    for (const source of authorization.identitySources.filter((s) => KEYABLE_SOURCE.test(s))) {
      if (!parameters.some((p) => p.toLowerCase() === source.toLowerCase())) parameters.push(source);
    }
  }
  return parameters;
}

/** Settings a method-level override repeats, since it does not inherit the stage's. */
export interface StageMethodDefaults {
  readonly loggingLevel: apigw.MethodLoggingLevel;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
}

/** The stage's method settings of its gateway-cached routes. */
export function gatewayCacheMethodOptions(cachedRoutes: ParsedRoute[], defaults: StageMethodDefaults): Record<string, apigw.MethodDeploymentOptions> {
  return Object.fromEntries(
    cachedRoutes.map((r) => [
      `${r.path}/${r.method}`,
      {
        cachingEnabled: true,
        cacheTtl: Duration.seconds(r.cache.gateway!.ttl),
        cacheDataEncrypted: true,
        loggingLevel: defaults.loggingLevel,
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: defaults.throttle.rateLimit,
        throttlingBurstLimit: defaults.throttle.burstLimit,
      },
    ]),
  );
}

/**
 * A client may send `Cache-Control: max-age=0` to make API Gateway bypass and refill its
 * cache. Only callers allowed `execute-api:InvalidateCache` may do that, and others get a
 * 403 rather than a warning header. CloudFormation has no property for these two method
 * settings, so an UpdateStage call sets them after every change of the stage's caching.
 */
export function requireAuthorizationForCacheControl(
  scope: Construct,
  api: apigw.RestApi,
  cachedRoutes: ParsedRoute[],
  encryptionKey: kms.IKey | undefined,
): void {
  const stage = api.deploymentStage;
  const paths = ['/*/*', ...cachedRoutes.map((r) => `/${r.path.replace(/\//g, '~1')}/${r.method}`)];
  const patchOperations = paths.flatMap((p) => [
    { op: 'replace', path: `${p}/caching/requireAuthorizationForCacheControl`, value: 'true' },
    { op: 'replace', path: `${p}/caching/unauthorizedCacheControlHeaderStrategy`, value: 'FAIL_WITH_403' },
  ]);
  const call: cr.AwsSdkCall = {
    service: 'APIGateway',
    action: 'updateStage',
    parameters: { restApiId: api.restApiId, stageName: stage.stageName, patchOperations },
    physicalResourceId: cr.PhysicalResourceId.of(`${scope.node.addr}-cache-control-authorization`),
  };
  // A role and log group of our own instead of the provider's managed-policy role.
  const logGroup = new logs.LogGroup(scope, 'CacheControlAuthorizationLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
    encryptionKey,
  });
  const role = new iam.Role(scope, 'CacheControlAuthorizationRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Sets the stage cache authorization settings CloudFormation cannot set',
  });
  logGroup.grantWrite(role);
  new cr.AwsCustomResource(scope, 'CacheControlAuthorization', {
    onCreate: call,
    onUpdate: call,
    installLatestAwsSdk: false,
    role,
    logGroup,
    memorySize: 256,
    policy: cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({
        actions: ['apigateway:PATCH'],
        resources: [Stack.of(scope).formatArn({ service: 'apigateway', account: '', resource: `/restapis/${api.restApiId}/stages/${stage.stageName}` })],
      }),
    ]),
  });
  const provider = Stack.of(scope).node.tryFindChild(PROVIDER_FUNCTION_ID);
  if (provider instanceof lambda.Function) {
    dropRedundantRoleDependency(provider);
    acknowledge(provider, 'Serverless-LambdaDLQ', 'Custom-resource provider invoked synchronously by CloudFormation, which reports failures itself');
    acknowledge(provider, 'Serverless-LambdaTracing', 'CDK-owned custom-resource provider: aws-cdk-lib offers no tracing option for it');
  }
}
