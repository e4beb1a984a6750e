import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import type { ParsedRoute } from '../api/route-table';

/**
 * What `ApiMonitoring` and `EdgeCache` read from the API they serve. `CacheableApi` has this
 * shape; the two constructs depend on it rather than on the `CacheableApi` class, which
 * creates them, so no module imports its own importer.
 */
export interface ICacheableApi extends IConstruct {
  /** The REST API. */
  readonly restApi: apigw.RestApi;
  /** The deployed stage. */
  readonly stage: apigw.Stage;
  /** The validated route table, in declaration order. */
  readonly routes: ParsedRoute[];
  /** Each route's function, by route key (`GET /items`). */
  readonly functions: Record<string, lambda.Function>;
  /** Each route's API Gateway method, by route key. */
  readonly methods: Record<string, apigw.Method>;
  /** The API's CloudFront edge cache, when a route is edge-cached. */
  readonly edge?: { readonly distribution: cloudfront.IDistribution };
}
