import { CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ICacheableApi as CacheableApi } from '../shared/cacheable-api-contract';
import { withDefaults } from '../shared/defaults';
import { DEFAULT_EDGE_CACHE, EDGE_LIMITS, SECURE_EDGE, SECURITY_HEADERS } from './edge-cache-defaults';
import { acknowledge } from '../shared/nag';
import { OriginVerification, OriginVerificationOptions } from './origin-verification';
import { checkRange, LIMITS, ParsedRoute } from '../api/route-table';

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
   * Comment of the distribution (128 characters at most).
   * @default - 'Edge cache of <API construct path>'
   */
  readonly comment?: string;
}

/** One cache behavior EdgeCache derives from the route table. */
export interface EdgeBehaviorPlan {
  /** CloudFront path pattern, e.g. `/items/*`. */
  readonly pathPattern: string;
  /** The edge-cached GET route served by this behavior, if any. */
  readonly cachedRoute?: ParsedRoute;
  /** Every route whose path maps to this pattern. */
  readonly routes: ParsedRoute[];
}

/**
 * The CloudFront path pattern of a route path: each `{parameter}` (greedy or not) becomes
 * `*`. `/items/{id}` → `/items/*`, `/items` → `/items`.
 */
export function edgePathPattern(path: string): string {
  if (path === '/') return '/';
  return '/' + path.slice(1).split('/').map((s) => (s.startsWith('{') ? '*' : s)).join('/');
}

/**
 * Cache invalidation paths of the edge-cached routes, for the edge purge function: one per
 * edge-cached GET route, as a template whose `{parameters}` the caller fills in.
 *
 * - `/items/{id}` stays `/items/{id}` (`/items/{id}*` when the route keys on query strings,
 *   so every cached query-string variant goes too);
 * - a route without parameters gets a trailing wildcard, `/items` → `/items*`, which also
 *   removes every cached query-string variant (`/items?limit=10&cursor=...`).
 *
 * Paths are the viewer's (the stage name is CloudFront's origin path, not part of them).
 */
export function edgeInvalidationPaths(routes: ParsedRoute[]): string[] {
  const paths = routes
    .filter((r) => r.method === 'GET' && r.cache.edge)
    .map((r) => (r.pathParameters.length === 0 || r.cache.key.queryStrings.length > 0 ? `${r.path}*` : r.path));
  return [...new Set(paths)];
}

/**
 * The cache behaviors of a route table, in CloudFront precedence order (most specific
 * first): one per path pattern of an edge-cached route, plus one (caching disabled) per
 * pattern of other routes that an edge-cached pattern would otherwise capture. Everything
 * else falls to the default behavior. Throws, naming the routes, on combinations CloudFront
 * cannot express.
 */
export function planEdgeBehaviors(routes: ParsedRoute[]): EdgeBehaviorPlan[] {
  const groups = new Map<string, ParsedRoute[]>();
  for (const route of routes) {
    const pattern = edgePathPattern(route.path);
    if (pattern === '/') {
      if (route.cache.edge) {
        throw new Error(
          `routes['${route.key}'].cache.edge: the root path cannot be edge-cached; CloudFront serves it from the default behavior, which also carries the writes`,
        );
      }
      continue;
    }
    groups.set(pattern, [...(groups.get(pattern) ?? []), route]);
  }
  const cachedPatterns = [...groups].filter(([, rs]) => rs.some((r) => r.cache.edge)).map(([p]) => p);
  const plans: EdgeBehaviorPlan[] = [];
  for (const [pathPattern, group] of groups) {
    const cached = group.filter((r) => r.cache.edge);
    if (cached.length > 1) {
      throw new Error(
        `routes: ${cached.map((r) => `'${r.key}'`).join(' and ')} are edge-cached under the same CloudFront path pattern ${pathPattern}; give them distinct paths or cache only one at the edge`,
      );
    }
    if (cached.length === 1) checkCachedRoute(cached[0]);
    if (cached.length === 1 || cachedPatterns.some((p) => p !== pathPattern && globsIntersect(p, pathPattern))) {
      plans.push({ pathPattern, cachedRoute: cached[0], routes: group });
    }
  }
  plans.sort((a, b) => comparePatterns(a.pathPattern, b.pathPattern));
  // CloudFront's `*` also spans `/`, API Gateway's `{param}` does not: a pattern placed first
  // may still capture paths of a later one (`/a/*/d` takes `/a/1/2/d` of `/a/{x}/{y}/d`).
  plans.forEach((later, j) => {
    for (const route of later.routes) {
      const sample = samplePath(route.path);
      const earlier = plans.slice(0, j).find((p) => globsIntersect(p.pathPattern, sample));
      if (earlier && (earlier.cachedRoute || later.cachedRoute)) {
        const other = earlier.cachedRoute ?? earlier.routes[0];
        throw new Error(
          `routes: CloudFront cannot tell '${route.key}' from '${other.key}': the path pattern ${earlier.pathPattern}, evaluated first, also matches ${route.path} (a CloudFront * spans several path segments); rename one of the paths`,
        );
      }
    }
  });
  return plans;
}

/** A path of the route's shape whose parameter values no literal segment can equal. */
function samplePath(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}');
}

/** What CloudFront cannot cache as the route's spec says. */
function checkCachedRoute(route: ParsedRoute): void {
  const prop = `routes['${route.key}'].cache`;
  if (route.cache.edge!.maxTtl === 0) {
    throw new Error(`${prop}.edge: ttl and maxTtl of 0 disable edge caching; remove cache.edge instead`);
  }
  checkHeaders(`${prop}.key.headers`, route.cache.key.headers);
  const keyed = new Set(route.cache.key.headers.map((h) => h.toLowerCase()));
  const unkeyed = Object.keys(route.options.request?.headers ?? {}).filter((h) => !keyed.has(h.toLowerCase()));
  if (unkeyed.length > 0) {
    throw new Error(
      `${prop}.key.headers must include every header in request.headers of an edge-cached route (CloudFront forwards only keyed headers, so the handler would see them missing); missing: ${unkeyed.join(', ')}`,
    );
  }
}

/**
 * Orders path patterns as API Gateway resolves paths: at the first position where one has a
 * literal segment and the other a parameter, the literal wins; otherwise the longer path.
 */
function comparePatterns(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const aw = as[i] === '*';
    const bw = bs[i] === '*';
    if (aw !== bw) return aw ? 1 : -1;
  }
  if (as.length !== bs.length) return bs.length - as.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether some path matches both CloudFront patterns (`*` matches any characters, `/` included). */
function globsIntersect(a: string, b: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (i < a.length && a[i] === '*') result = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && b[j] === '*') result = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else result = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

const WEB_ACL_ARN = /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[^/]+\/[^/]+$/;
const DOMAIN_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const SIGV4_HEADERS = ['X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256'];

/**
 * A CloudFront distribution in front of a `CacheableApi`'s regional REST API.
 *
 * - One cache behavior per edge-cached route, with a cache policy built from the route's
 *   spec (TTLs, and exactly its key query strings, headers and cookies), gzip and Brotli.
 * - Everything else (writes, uncached and authenticated routes) goes through the default
 *   behavior: caching disabled, every viewer header but `Host` forwarded.
 * - HTTPS only (HTTP redirected), HTTP/2 and HTTP/3, TLS 1.2 to the origin, security
 *   response headers, access logs to an encrypted private bucket.
 * - Origin verification: the API answers only requests that carry CloudFront's secret header.
 */
export class EdgeCache extends Construct {
  /** The distribution. */
  public readonly distribution: cloudfront.Distribution;
  /** The distribution's `*.cloudfront.net` domain name. */
  public readonly distributionDomainName: string;
  /** `https://` URL of the API through CloudFront (the first custom domain when there is one). */
  public readonly url: string;
  /** The cache behaviors derived from the route table, in precedence order. */
  public readonly behaviors: EdgeBehaviorPlan[];
  /** Cache policy of each edge-cached route, by route key. */
  public readonly cachePolicies: Record<string, cloudfront.CachePolicy> = {};
  /** The security headers policy applied to every response. */
  public readonly responseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  /** The bucket that receives CloudFront access logs. */
  public readonly logBucket: s3.IBucket;
  /** Origin verification (secret header + regional web ACL), unless `verifyOrigin` is false. */
  public readonly originVerification?: OriginVerification;
  /** Invalidation path templates of the edge-cached routes (see `edgeInvalidationPaths`). */
  public readonly invalidationPaths: string[];
  private readonly api: CacheableApi;

  constructor(scope: Construct, id: string, props: EdgeCacheProps) {
    super(scope, id);
    if (!props.api?.restApi) {
      throw new Error('api is required: the CacheableApi to put CloudFront in front of');
    }
    const settings = withDefaults(DEFAULT_EDGE_CACHE, props);
    validateProps(props, settings);
    const api = props.api;
    this.api = api;

    this.behaviors = planEdgeBehaviors(api.routes);
    if (this.behaviors.length > EDGE_LIMITS.maxCacheBehaviors) {
      throw new Error(
        `routes: the route table needs ${this.behaviors.length} cache behaviors; CloudFront allows ${EDGE_LIMITS.maxCacheBehaviors} per distribution by default`,
      );
    }
    this.invalidationPaths = edgeInvalidationPaths(api.routes);

    if (settings.verifyOrigin) {
      const [here, there] = [Stack.of(this).region, Stack.of(api).region];
      if (!Token.isUnresolved(here) && !Token.isUnresolved(there) && here !== there) {
        throw new Error(
          `verifyOrigin: the regional web ACL must be in the API's region (${there}); create the EdgeCache in a stack of that region, not ${here}`,
        );
      }
      if (api.node.tryFindChild('WebAclAssociation')) {
        throw new Error(
          'verifyOrigin: the API stage already has a web ACL (CacheableApi webAclArn) and a stage takes only one; set verifyOrigin: false and add an origin-verify rule to that web ACL, or drop webAclArn',
        );
      }
      this.originVerification = new OriginVerification(this, 'OriginVerification', {
        ...props.originVerification,
        stage: api.stage,
      });
    }

    const origin = new origins.HttpOrigin(
      `${api.restApi.restApiId}.execute-api.${Stack.of(api).region}.${Stack.of(api).urlSuffix}`,
      {
        originPath: `/${api.stage.stageName}`,
        protocolPolicy: SECURE_EDGE.originProtocolPolicy,
        originSslProtocols: [...SECURE_EDGE.originSslProtocols],
        readTimeout: settings.originReadTimeout,
        keepaliveTimeout: settings.originKeepaliveTimeout,
        customHeaders: this.originVerification?.originCustomHeaders,
      },
    );

    this.responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Security headers of a JSON API',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: SECURITY_HEADERS.hstsMaxAge,
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: SECURITY_HEADERS.frameOption, override: true },
        referrerPolicy: { referrerPolicy: SECURITY_HEADERS.referrerPolicy, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: SECURITY_HEADERS.contentSecurityPolicy, override: true },
      },
    });

    const uncached: cloudfront.BehaviorOptions = {
      origin,
      viewerProtocolPolicy: SECURE_EDGE.viewerProtocolPolicy,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: this.responseHeadersPolicy,
      compress: SECURE_EDGE.compress,
    };
    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {};
    for (const plan of this.behaviors) {
      additionalBehaviors[plan.pathPattern] = plan.cachedRoute
        ? this.cachedBehavior(plan, plan.cachedRoute, uncached, settings.forwardAuthorizationToWrites)
        : uncached;
    }

    this.logBucket = props.logBucket ?? this.createLogBuckets(settings.logRetention, settings.logRemovalPolicy);

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: (props.comment ?? `Edge cache of ${api.node.path}`).slice(0, 128),
      defaultBehavior: uncached,
      additionalBehaviors,
      httpVersion: SECURE_EDGE.httpVersion,
      priceClass: settings.priceClass,
      enableIpv6: SECURE_EDGE.enableIpv6,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: settings.logFilePrefix,
      logIncludesCookies: settings.logIncludesCookies,
      webAclId: props.webAclArn,
      domainNames: props.domainNames,
      certificate: props.certificate,
      minimumProtocolVersion: props.certificate ? SECURE_EDGE.minimumProtocolVersion : undefined,
      geoRestriction: props.geoRestriction,
    });
    if (this.originVerification) {
      // On a rotation the web ACL must accept the new value before CloudFront sends it.
      this.distribution.node.addDependency(this.originVerification.webAcl);
    }
    this.distributionDomainName = this.distribution.distributionDomainName;
    this.url = `https://${props.domainNames?.[0] ?? this.distributionDomainName}`;

    if (!props.webAclArn) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR2',
        'A CLOUDFRONT-scope web ACL must live in us-east-1, outside this stack: pass its ARN as webAclArn' +
          (this.originVerification ? '. Requests that reach the API are filtered by the regional web ACL of origin verification' : ''),
      );
    }
    if (!props.certificate) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR4',
        "Without a custom domain CloudFront's default certificate is used, whose security policy is fixed at TLSv1 and cannot be raised; pass domainNames + certificate to enforce TLSv1.2_2021",
      );
    }
    if (!props.geoRestriction) {
      acknowledge(this.distribution, 'AwsSolutions-CFR1', 'Geographic restriction is a business choice, not a security default: pass geoRestriction to apply one');
    }

    new CfnOutput(this, 'DistributionDomainName', {
      value: this.distributionDomainName,
      description: 'Domain name of the CloudFront distribution',
    });
    new CfnOutput(this, 'DistributionId', {
      value: this.distribution.distributionId,
      description: 'Id of the CloudFront distribution (for invalidations)',
    });
    if (this.originVerification) {
      new CfnOutput(this, 'OriginVerifySecretArn', {
        value: this.originVerification.secret.secretArn,
        description: 'Secret holding the origin-verify header value (rotation runbook: lib/edge/README.md)',
      });
    }
  }

  /**
   * The behavior of an edge-cached route. When writes share its path pattern, all methods are
   * allowed (CloudFront caches only GET and HEAD responses, so writes always reach the origin)
   * and an origin request policy forwards what the writes declare.
   */
  private cachedBehavior(
    plan: EdgeBehaviorPlan,
    route: ParsedRoute,
    uncached: cloudfront.BehaviorOptions,
    forwardAuthorizationToWrites: boolean,
  ): cloudfront.BehaviorOptions {
    const edge = route.cache.edge!;
    const prop = `routes['${route.key}']`;
    const key = route.cache.key;
    const keyed = new Set(key.headers.map((h) => h.toLowerCase()));

    const writes = plan.routes.filter((r) => r.method !== 'GET');
    const authenticatedWrites = writes.filter((w) => this.authorizationTypeOf(w) !== 'NONE');
    const keyHeaders = [...key.headers];
    if (authenticatedWrites.length > 0) {
      if (!forwardAuthorizationToWrites) {
        throw new Error(
          `forwardAuthorizationToWrites: ${authenticatedWrites.map((w) => `'${w.key}'`).join(', ')} share the edge-cached path pattern ${plan.pathPattern} with '${route.key}', and CloudFront forwards the Authorization header from a caching behavior only when it is in the cache key. Set forwardAuthorizationToWrites: true to key that behavior on Authorization, or move the writes to a path that is not edge-cached`,
        );
      }
      if (!keyed.has('authorization')) keyHeaders.push('Authorization');
      if (keyHeaders.length > LIMITS.keyPartsPerKind) {
        throw new Error(`${prop}.cache.key.headers: with Authorization added for the writes, the key has more than ${LIMITS.keyPartsPerKind} headers`);
      }
    }

    const cachePolicy = new cloudfront.CachePolicy(this, `${route.id}CachePolicy`, {
      comment: `Edge cache key of ${route.key}`.slice(0, 128),
      defaultTtl: Duration.seconds(edge.ttl),
      minTtl: Duration.seconds(edge.minTtl),
      maxTtl: Duration.seconds(edge.maxTtl),
      queryStringBehavior: key.queryStrings.length
        ? cloudfront.CacheQueryStringBehavior.allowList(...key.queryStrings)
        : cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: keyHeaders.length ? cloudfront.CacheHeaderBehavior.allowList(...keyHeaders) : cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: key.cookies.length ? cloudfront.CacheCookieBehavior.allowList(...key.cookies) : cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    this.cachePolicies[route.key] = cachePolicy;

    return {
      ...uncached,
      allowedMethods: writes.length > 0 ? cloudfront.AllowedMethods.ALLOW_ALL : cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      cachePolicy,
      originRequestPolicy: writes.length > 0 ? this.writeOriginRequestPolicy(route, writes, keyHeaders) : undefined,
    };
  }

  /**
   * What the writes sharing a cached behavior need beyond its cache key: their declared
   * headers and query strings, `Content-Type` (the request model is chosen by it) and, for
   * IAM, the other SigV4 headers.
   */
  private writeOriginRequestPolicy(route: ParsedRoute, writes: ParsedRoute[], keyHeaders: string[]): cloudfront.OriginRequestPolicy {
    const keyed = new Set(keyHeaders.map((h) => h.toLowerCase()));
    const headers = new Map<string, string>([['content-type', 'Content-Type']]);
    const queryStrings = new Set<string>();
    for (const write of writes) {
      const declared = Object.keys(write.options.request?.headers ?? {});
      checkHeaders(`routes['${write.key}'].request.headers`, declared);
      if (declared.some((h) => h.toLowerCase() === 'authorization') && !keyed.has('authorization')) {
        throw new Error(
          `routes['${write.key}'].request.headers: Authorization is forwarded from the edge-cached path ${edgePathPattern(write.path)} only through the cache key; set forwardAuthorizationToWrites: true`,
        );
      }
      const sigv4 = this.authorizationTypeOf(write) === apigw.AuthorizationType.IAM ? SIGV4_HEADERS : [];
      for (const h of [...declared, ...sigv4]) {
        if (h.toLowerCase() !== 'authorization') headers.set(h.toLowerCase(), h);
      }
      for (const q of Object.keys(write.options.request?.queryStrings ?? {})) queryStrings.add(q);
    }
    for (const h of keyed) headers.delete(h);
    for (const q of route.cache.key.queryStrings) queryStrings.delete(q);
    if (headers.size > EDGE_LIMITS.maxOriginRequestParts || queryStrings.size > EDGE_LIMITS.maxOriginRequestParts) {
      throw new Error(
        `routes: the writes sharing ${edgePathPattern(route.path)} (${writes.map((w) => w.key).join(', ')}) declare more than ${EDGE_LIMITS.maxOriginRequestParts} headers or query strings beyond the cache key`,
      );
    }
    return new cloudfront.OriginRequestPolicy(this, `${route.id}WriteRequestPolicy`, {
      comment: `Forwards what the writes sharing ${edgePathPattern(route.path)} need`.slice(0, 128),
      headerBehavior: headers.size ? cloudfront.OriginRequestHeaderBehavior.allowList(...headers.values()) : cloudfront.OriginRequestHeaderBehavior.none(),
      queryStringBehavior: queryStrings.size
        ? cloudfront.OriginRequestQueryStringBehavior.allowList(...queryStrings)
        : cloudfront.OriginRequestQueryStringBehavior.none(),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
    });
  }

  /** `NONE`, `AWS_IAM`, `COGNITO_USER_POOLS` or `CUSTOM`, as the route's method was built. */
  private authorizationTypeOf(route: ParsedRoute): string {
    const method = this.api.methods[route.key];
    const cfn = method?.node.defaultChild as apigw.CfnMethod | undefined;
    return cfn?.authorizationType ?? apigw.AuthorizationType.NONE;
  }

  private createLogBuckets(retention: Duration, removalPolicy: RemovalPolicy): s3.Bucket {
    const lifecycleRules: s3.LifecycleRule[] = [
      { id: 'expire-logs', expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ];
    const serverAccessLogs = new s3.Bucket(this, 'ServerAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules,
      removalPolicy,
    });
    return new s3.Bucket(this, 'AccessLogs', {
      // CloudFront standard logs are delivered through bucket ACLs (awslogsdelivery):
      // ACLs stay enabled, and the bucket owner still owns every log object.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules,
      serverAccessLogsBucket: serverAccessLogs,
      serverAccessLogsPrefix: 'access-logs/',
      removalPolicy,
    });
  }
}

function checkHeaders(prop: string, headers: string[]): void {
  const forbidden = headers.filter((h) => (EDGE_LIMITS.forbiddenKeyHeaders as readonly string[]).includes(h.toLowerCase()));
  if (forbidden.length > 0) {
    throw new Error(`${prop}: CloudFront cannot forward or key on ${forbidden.join(', ')}`);
  }
}

function validateProps(props: EdgeCacheProps, settings: typeof DEFAULT_EDGE_CACHE & EdgeCacheProps): void {
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
