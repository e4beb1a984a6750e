import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { ICacheableApi as CacheableApi } from '../shared/cacheable-api-contract';
import { checkRange } from '../api/route-table';
import { DEFAULT_EDGE_CACHE, EDGE_LIMITS } from './edge-cache-defaults';
import { OriginVerificationOptions } from './origin-verification';

/** Settings of the edge cache a CacheableApi creates for its edge-cached routes. */
export type EdgeCacheOptions = Omit<EdgeCacheProps, 'api'>;

/** Properties of an `EdgeCache`. */
export interface EdgeCacheProps {
  /** The API to put CloudFront in front of. Its edge-cached routes (`cache.edge`) get their own cache behaviors. */
  readonly api: CacheableApi;
  /**
   * Which edge locations serve the distribution.
   * @default cloudfront.PriceClass.PRICE_CLASS_100 - North America and Europe
   */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * ARN of a CLOUDFRONT-scope WAFv2 web ACL for the distribution. Such web ACLs exist only
   * in us-east-1, whatever the stack's region: create it there (e.g. in its own stack) and
   * pass its ARN (`arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>`).
   * @default - no web ACL at the edge (viewers are still filtered by the regional web ACL
   * of origin verification when their request reaches the API)
   */
  readonly webAclArn?: string;
  /**
   * Custom domain names (CNAMEs) of the distribution. Needs `certificate`.
   * @default - the distribution's `*.cloudfront.net` name only
   */
  readonly domainNames?: string[];
  /**
   * ACM certificate in us-east-1 covering `domainNames`. With it, viewers need TLS 1.2 or
   * later (`TLSv1.2_2021` security policy).
   * @default - CloudFront's default certificate, whose security policy is fixed at TLSv1
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Countries allowed or denied.
   * @default - no geographic restriction
   */
  readonly geoRestriction?: cloudfront.GeoRestriction;
  /**
   * Bucket for CloudFront standard access logs. It must have ACLs enabled (object ownership
   * `BUCKET_OWNER_PREFERRED` or `OBJECT_WRITER`), as CloudFront delivers logs through ACLs.
   * @default - a new encrypted, private, SSL-only bucket with lifecycle expiry and its own
   * server-access-logs bucket
   */
  readonly logBucket?: s3.IBucket;
  /**
   * Key prefix of the access logs.
   * @default 'cloudfront/'
   */
  readonly logFilePrefix?: string;
  /**
   * Whether access logs include cookies.
   * @default false
   */
  readonly logIncludesCookies?: boolean;
  /**
   * How long the buckets EdgeCache creates keep logs (whole days, 1 to 3650). Not allowed
   * with `logBucket`, whose lifecycle is its owner's.
   * @default Duration.days(90)
   */
  readonly logRetention?: Duration;
  /**
   * What happens to the log buckets EdgeCache creates when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * How long CloudFront waits for the API's response (1 to 180 seconds; above 60 needs a quota increase).
   * @default Duration.seconds(30) - just above API Gateway's 29-second integration timeout
   */
  readonly originReadTimeout?: Duration;
  /**
   * How long CloudFront keeps an idle connection to the API open (1 to 180 seconds).
   * @default Duration.seconds(30)
   */
  readonly originKeepaliveTimeout?: Duration;
  /**
   * Make the API answer only requests that came through this distribution: CloudFront adds
   * a secret header, and a regional WAFv2 web ACL on the stage blocks requests without it.
   * Turn off only when the stage already has a web ACL (`CacheableApi` `webAclArn`; a stage
   * takes one web ACL) that you extend yourself.
   * @default true
   */
  readonly verifyOrigin?: boolean;
  /**
   * Settings of origin verification.
   * @default - see `OriginVerificationOptions`
   */
  readonly originVerification?: OriginVerificationOptions;
  /**
   * When an authenticated write (IAM, Cognito, custom authorizer) shares a path pattern with
   * an edge-cached read (`PUT /items/{id}` and `GET /items/{id}`), CloudFront forwards the
   * `Authorization` header from that caching behavior only if the header is part of the
   * cache key. `true` adds `Authorization` to the key of those behaviors (public reads are
   * unaffected; a reader that sends `Authorization` gets its own cache entry). Left `false`,
   * such a route table is rejected rather than deployed with writes that cannot authenticate.
   * @default false
   */
  readonly forwardAuthorizationToWrites?: boolean;
  /**
   * Customer-managed KMS key of the origin-verification secret, its WAF log group and its
   * rotation function's log group (CacheableApi passes its `encryptionKey`). CloudFront's
   * standard access logs cannot use one: their buckets stay SSE-S3.
   * @default - the AWS managed key of Secrets Manager; CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Comment of the distribution (128 characters at most).
   * @default - 'Edge cache of <API construct path>'
   */
  readonly comment?: string;
}

const WEB_ACL_ARN = /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[^/]+\/[^/]+$/;
const DOMAIN_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Throws, naming the prop and the allowed values, on settings CloudFront or WAF would refuse. */
export function validateEdgeCacheProps(props: EdgeCacheProps, settings: typeof DEFAULT_EDGE_CACHE & EdgeCacheProps): void {
  const priceClasses = Object.values(cloudfront.PriceClass) as string[];
  if (!priceClasses.includes(settings.priceClass)) {
    throw new Error(`priceClass must be one of ${priceClasses.join(', ')} (cloudfront.PriceClass), got "${settings.priceClass}"`);
  }
  const arn = props.webAclArn;
  if (arn !== undefined && !Token.isUnresolved(arn) && !WEB_ACL_ARN.test(arn)) {
    throw new Error(
      `webAclArn must be the ARN of a CLOUDFRONT-scope WAFv2 web ACL, which lives in us-east-1 (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>), got "${arn}"`,
    );
  }
  if (props.domainNames !== undefined) {
    if (props.domainNames.length === 0) {
      throw new Error('domainNames must list at least one domain name, or be left out');
    }
    if (!props.certificate) {
      throw new Error('domainNames needs certificate: an ACM certificate in us-east-1 that covers every domain name');
    }
    for (const name of props.domainNames) {
      if (!Token.isUnresolved(name) && !DOMAIN_NAME.test(name)) {
        throw new Error(`domainNames: "${name}" is not a lower-case domain name (e.g. api.example.com)`);
      }
    }
  } else if (props.certificate) {
    throw new Error('certificate needs domainNames: the custom domain names the certificate covers');
  }
  if (props.logBucket && (props.logRetention !== undefined || props.logRemovalPolicy !== undefined)) {
    throw new Error('logRetention and logRemovalPolicy apply to the log buckets EdgeCache creates; with logBucket, set them on that bucket');
  }
  const days = settings.logRetention.toDays({ integral: false });
  checkRange('logRetention', days, EDGE_LIMITS.logRetentionDays.min, EDGE_LIMITS.logRetentionDays.max, 'days');
  const read = settings.originReadTimeout.toSeconds({ integral: false });
  checkRange('originReadTimeout', read, EDGE_LIMITS.originReadTimeoutSeconds.min, EDGE_LIMITS.originReadTimeoutSeconds.max, 'seconds');
  const keepalive = settings.originKeepaliveTimeout.toSeconds({ integral: false });
  checkRange(
    'originKeepaliveTimeout',
    keepalive,
    EDGE_LIMITS.originKeepaliveTimeoutSeconds.min,
    EDGE_LIMITS.originKeepaliveTimeoutSeconds.max,
    'seconds',
  );
  if (!settings.verifyOrigin && props.originVerification) {
    throw new Error('originVerification applies only with verifyOrigin: true');
  }
}
