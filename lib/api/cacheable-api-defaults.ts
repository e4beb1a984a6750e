import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';

/** Secure, production defaults of CacheableApi, kept in one place; user props are merged over them. */
export const CACHEABLE_API_DEFAULTS = {
  stageName: 'v1',
  throttle: { rateLimit: 100, burstLimit: 200 },
  accessLogRetention: logs.RetentionDays.ONE_MONTH,
  loggingLevel: apigw.MethodLoggingLevel.ERROR,
  /** The account's logging role is one setting per account and region: not the API's to own. */
  cloudWatchRole: false,
  gatewayCacheSize: '0.5',
  /** One security group and one cache ingress rule for every data-cache client function. */
  shareDataCacheSecurityGroup: true,
  apiName: undefined as string | undefined,
  cors: undefined as apigw.CorsOptions | undefined,
  functionDefaults: undefined as import('../functions/stateless-function').StatelessFunctionOptions | undefined,
  webAclArn: undefined as string | undefined,
};
