/**
 * Secure defaults of `EdgeCache` and `OriginVerification`, kept in one place.
 *
 * - `DEFAULT_*` values apply when a prop is left out and can be overridden.
 * - `SECURE_*` settings are always applied: they are what the constructs promise (HTTPS
 *   end to end, TLS 1.2 to the origin, security headers) and have no prop.
 * - `EDGE_LIMITS` are the accepted ranges; the constructs throw, naming the prop, outside them.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';

/** Defaults of `EdgeCacheProps`. */
export const DEFAULT_EDGE_CACHE: {
  readonly priceClass: cloudfront.PriceClass;
  readonly originReadTimeout: Duration;
  readonly originKeepaliveTimeout: Duration;
  readonly logRetention: Duration;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly logFilePrefix: string;
  readonly logIncludesCookies: boolean;
  readonly verifyOrigin: boolean;
  readonly forwardAuthorizationToWrites: boolean;
} = {
  /** North America and Europe edges: the cheapest class; widen it for a global audience. */
  priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
  /**
   * Longer than API Gateway's 29-second integration timeout, so a slow handler ends with
   * API Gateway's own (JSON) 504 rather than CloudFront's HTML one.
   */
  originReadTimeout: Duration.seconds(30),
  /** Reuse origin connections across requests (TLS handshakes cost more than the idle socket). */
  originKeepaliveTimeout: Duration.seconds(30),
  /** Days CloudFront access logs (and the server access logs of their bucket) are kept. */
  logRetention: Duration.days(90),
  /** Access logs are audit evidence: they outlive the stack by default. */
  logRemovalPolicy: RemovalPolicy.RETAIN,
  logFilePrefix: 'cloudfront/',
  /** Cookies can hold session data: kept out of the logs unless asked for. */
  logIncludesCookies: false,
  verifyOrigin: true,
  forwardAuthorizationToWrites: false,
};

/** Always applied to the distribution and its behaviors. */
export const SECURE_EDGE = {
  viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
  httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
  originProtocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
  originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
  /** Applies only with a custom certificate: CloudFront's default certificate is fixed at TLSv1. */
  minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
  compress: true,
  enableIpv6: true,
} as const;

/** Security headers added to every response (the origin's own values are overridden). */
export const SECURITY_HEADERS = {
  /** Two years, subdomains included, eligible for browsers' preload lists. */
  hstsMaxAge: Duration.days(730),
  /** A JSON API loads nothing and is framed by nobody. */
  contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
  frameOption: cloudfront.HeadersFrameOption.DENY,
  referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER,
} as const;

/** Defaults of `OriginVerificationOptions`. */
export const DEFAULT_ORIGIN_VERIFICATION: {
  readonly headerName: string;
  readonly secretLength: number;
  readonly managedRulesAction: 'block' | 'count';
} = {
  headerName: 'x-origin-verify',
  /** Alphanumeric only: safe in an HTTP header and in a WAF byte-match string (200 bytes at most). */
  secretLength: 48,
  /** AWS managed rule groups block; `count` only records what they would block. */
  managedRulesAction: 'block',
};

/** Defaults of `EdgeWebAclProps`. */
export const DEFAULT_EDGE_WEB_ACL = {
  /** Requests per viewer address in any evaluation window, cached answers included (CloudFront-scope WAF sees them all). */
  rateLimit: 2000,
  /** Seconds of the rate-based rule's window: 60, 120, 300 or 600. */
  evaluationWindowSeconds: 300,
} as const;

/** Headers CloudFront cannot add to origin requests (besides `X-Amz-*` and `X-Edge-*`). */
export const FORBIDDEN_ORIGIN_CUSTOM_HEADERS = [
  'cache-control',
  'connection',
  'content-length',
  'cookie',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'max-forwards',
  'pragma',
  'proxy-authorization',
  'proxy-connection',
  'range',
  'request-range',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
  'x-real-ip',
];

/** JSON key of the generated header value in the origin-verify secret. */
export const ORIGIN_VERIFY_SECRET_FIELD = 'headerValue';

/** Rules of the AWS managed rule groups that are switched to count because the API does the check itself. */
export const MANAGED_RULE_COUNT_OVERRIDES: Record<string, string[]> = {
  // Blocks bodies over 8 KB; the API enforces each route's own limit (`maxBodyBytes`, 413).
  AWSManagedRulesCommonRuleSet: ['SizeRestrictions_BODY'],
  AWSManagedRulesKnownBadInputsRuleSet: [],
};

/** Accepted ranges, checked at construction. */
export const EDGE_LIMITS = {
  /** CloudFront's default quota of cache behaviors per distribution. */
  maxCacheBehaviors: 25,
  /** Headers, cookies or query strings per origin request policy. */
  maxOriginRequestParts: 10,
  originReadTimeoutSeconds: { min: 1, max: 180 },
  originKeepaliveTimeoutSeconds: { min: 1, max: 180 },
  logRetentionDays: { min: 1, max: 3650 },
  /** WAF rate-based rules: 10 to 2 billion requests per evaluation window. */
  rateLimit: { min: 10, max: 2_000_000_000 },
  /** Header names CloudFront will not put in a cache key or an origin request policy. */
  forbiddenKeyHeaders: [
    'accept-encoding', // keyed through the gzip/brotli settings instead
    'connection',
    'content-length',
    'expect',
    'host',
    'keep-alive',
    'proxy-authenticate',
    'proxy-authorization',
    'proxy-connection',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'via',
    'x-real-ip',
  ],
} as const;
