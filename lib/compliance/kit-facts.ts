import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { IConstruct } from 'constructs';
import { acknowledgeInPacks } from './pack-rules';
import { CacheableApi } from '../api/cacheable-api';
import { OriginSecretRotation } from '../edge/origin-secret-rotation';
import { CacheSync } from '../sync/cache-sync';

/** Construct id of the AwsCustomResource provider function (a singleton per stack). */
const CUSTOM_RESOURCE_PROVIDER_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;

/**
 * Records, for the regulated packs, what the kit knows to be true of its own constructs and that
 * a rule cannot see: how a stage's integrations reach their backends, which functions have no
 * private resource to reach. Each reason is checked against the construct before it is recorded.
 */
export function acknowledgeKitFacts(node: IConstruct): void {
  if (node instanceof CacheableApi) {
    stageFacts(node);
    for (const fn of Object.values(node.functions)) {
      if (fn.isBoundToVpc) continue;
      acknowledgeInPacks(
        fn,
        'LambdaInsideVPC',
        'A route function without a data cache: CacheableApi places a route function in a VPC only to reach its data cache, and this one reaches ' +
          'AWS APIs and public endpoints only (over TLS, authorized by IAM or the upstream\'s key); a VPC would add NAT or endpoints without a private resource to isolate. Pass function.vpc to place it in one',
      );
    }
  } else if (node instanceof CacheSync && node.edgePurge) {
    acknowledgeInPacks(
      node.edgePurge,
      'LambdaInsideVPC',
      'The edge purge calls only CloudFront\'s CreateInvalidation, a global API with no VPC endpoint: inside the data cache\'s isolated VPC it could not reach it',
    );
  } else if (node instanceof OriginSecretRotation && !node.function.isBoundToVpc) {
    acknowledgeInPacks(
      node.function,
      'LambdaInsideVPC',
      'The origin-secret rotation calls Secrets Manager, WAF (GetWebACL/UpdateWebACL) and CloudFront (GetDistributionConfig/UpdateDistribution); ' +
        'CloudFront has no VPC endpoint, and the function reaches no private resource',
    );
  } else if (node instanceof lambda.Function && node.node.id === CUSTOM_RESOURCE_PROVIDER_ID && !node.isBoundToVpc) {
    acknowledgeInPacks(
      node,
      'LambdaInsideVPC',
      'CDK\'s AwsCustomResource provider: CloudFormation invokes it during deployments to call an AWS API; it holds no data and reaches no private resource',
    );
  }
}

function stageFacts(api: CacheableApi): void {
  const stack = Stack.of(api);
  const integrationTypes = new Set(
    api.restApi.node
      .findAll()
      .filter((c): c is apigw.CfnMethod => c instanceof apigw.CfnMethod)
      .map((m) => (stack.resolve(m.integration) as { type?: string } | undefined)?.type ?? 'NONE'),
  );
  // A client certificate is presented to HTTP backends only: acknowledge only when there is none.
  if ([...integrationTypes].every((t) => t === 'AWS_PROXY' || t === 'MOCK')) {
    acknowledgeInPacks(
      api.stage,
      'APIGWSSLEnabled',
      'API Gateway presents a stage client certificate only to HTTP(S) integrations; every integration of this API is a Lambda proxy (AWS_PROXY) ' +
        'or a MOCK integration, invoked through the Lambda API over TLS and authorized by IAM, where no client certificate is sent',
    );
  }
  const cfnStage = api.stage.node.defaultChild as apigw.CfnStage;
  const clusterOn = stack.resolve(cfnStage.cacheClusterEnabled) === true;
  acknowledgeInPacks(
    api.stage,
    'APIGWCacheEnabledAndEncrypted',
    (clusterOn
      ? 'The stage cache is on, encrypted (cacheDataEncrypted), for the routes that declare cache.gateway only. '
      : 'No route declares cache.gateway, so the stage has no cache cluster (billed per hour) and nothing to encrypt. ') +
      'The rule wants caching on every method (/*/*): that would cache writes and serve one caller\'s authenticated answer to another, ' +
      'so CacheableApi enables it per route, keyed per caller where authorization applies',
  );
}
