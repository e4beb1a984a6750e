import { createHash } from 'crypto';
import { CfnOutput, Duration, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ICacheableApi as CacheableApi } from '../shared/cacheable-api-contract';
import { withDefaults } from '../shared/defaults';
import { DEFAULT_EDGE_CACHE, EDGE_LIMITS, SECURE_EDGE, SECURITY_HEADERS } from './edge-cache-defaults';
import { acknowledge } from '../shared/nag';
import { OriginVerification } from './origin-verification';
import { LIMITS, ParsedRoute } from '../api/route-table';
import { EdgeBehaviorPlan, checkHeaders, planEdgeBehaviors } from './edge-behaviors';
import { EdgeCacheProps, validateEdgeCacheProps } from './edge-cache-props';
import { createLogBuckets } from './edge-log-buckets';
import { edgeCacheSettingsKey, mergeCachedBehaviors } from './edge-cache-behavior-merge';
import { edgeInvalidationPaths, edgePathPattern } from './invalidation-paths';

// The invalidation-path helpers live in ./invalidation-paths; their names stay exported here.
export * from './invalidation-paths';

export type { EdgeBehaviorPlan } from './edge-behaviors';
export { planEdgeBehaviors } from './edge-behaviors';
export type { EdgeCacheOptions, EdgeCacheProps } from './edge-cache-props';

const SIGV4_HEADERS = ['X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256'];

/** What a CloudFront cache policy of a route holds: TTLs in seconds and the cache key. */
interface EdgeCachePolicySettings {
  readonly ttl: number;
  readonly minTtl: number;
  readonly maxTtl: number;
  readonly queryStrings: readonly string[];
  readonly headers: readonly string[];
  readonly cookies: readonly string[];
}

/**
 * A CloudFront distribution in front of a `CacheableApi`'s regional REST API.
 *
 * - One cache behavior per edge-cached route, with a cache policy built from the route's
 *   spec (TTLs, and exactly its key query strings, headers and cookies), gzip and Brotli.
 *   Routes with the same settings share the policy, and their behavior too where one path
 *   pattern can hold them and no other route (`/r?/*` for `/r0/*` ... `/r9/*`).
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
  /** Cache policy of each edge-cached route, by route key; routes with the same settings share one. */
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
    validateEdgeCacheProps(props, settings);
    const api = props.api;
    this.api = api;

    this.behaviors = mergeCachedBehaviors(planEdgeBehaviors(api.routes), api.routes);
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
        encryptionKey: props.encryptionKey,
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

    this.logBucket = props.logBucket ?? createLogBuckets(this, settings.logRetention, settings.logRemovalPolicy);

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
      this.originVerification.rotateWith(this.distribution);
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

    const cachePolicy = this.cachePolicyFor(edgeCacheSettingsKey(route, keyHeaders), {
      ttl: edge.ttl,
      minTtl: edge.minTtl,
      maxTtl: edge.maxTtl,
      queryStrings: key.queryStrings,
      headers: keyHeaders,
      cookies: key.cookies,
    });
    for (const cached of plan.cachedRoutes ?? [route]) this.cachePolicies[cached.key] = cachePolicy;

    return {
      ...uncached,
      allowedMethods: writes.length > 0 ? cloudfront.AllowedMethods.ALLOW_ALL : cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      cachePolicy,
      originRequestPolicy: writes.length > 0 ? this.writeOriginRequestPolicy(route, writes, keyHeaders) : undefined,
    };
  }

  /**
   * The cache policy of these settings: one per distinct set (`canonical`), shared by every route
   * that has it (an account holds 20 cache policies by default, and each is a resource), named by
   * a hash of the settings so that adding or removing a route never renames another's policy.
   */
  private cachePolicyFor(canonical: string, s: EdgeCachePolicySettings): cloudfront.CachePolicy {
    const id = `CachePolicy${createHash('sha256').update(canonical).digest('hex').slice(0, 8).toUpperCase()}`;
    const existing = this.node.tryFindChild(id);
    if (existing) return existing as cloudfront.CachePolicy;
    const list = (kind: string, names: readonly string[]) => (names.length ? `; ${kind} ${names.join(',')}` : '');
    return new cloudfront.CachePolicy(this, id, {
      comment: `Edge cache: TTL ${s.ttl}s (${s.minTtl}-${s.maxTtl})${list('query', s.queryStrings)}${list('headers', s.headers)}${list('cookies', s.cookies)}`.slice(0, 128),
      defaultTtl: Duration.seconds(s.ttl),
      minTtl: Duration.seconds(s.minTtl),
      maxTtl: Duration.seconds(s.maxTtl),
      queryStringBehavior: s.queryStrings.length
        ? cloudfront.CacheQueryStringBehavior.allowList(...s.queryStrings)
        : cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: s.headers.length ? cloudfront.CacheHeaderBehavior.allowList(...s.headers) : cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: s.cookies.length ? cloudfront.CacheCookieBehavior.allowList(...s.cookies) : cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
  }

  /**
   * What the writes sharing a cached behavior need beyond its cache key: their declared
   * headers and query strings, `Content-Type` (the request model is chosen by it), for IAM the
   * other SigV4 headers, and `X-Api-Key` for writes that require an API key. Behaviors whose
   * writes need the same share one policy.
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
      // A write that needs an API key gets it from the viewer, not from this behavior's cache key.
      const apiKey = write.options.requireApiKey ? ['X-Api-Key'] : [];
      for (const h of [...declared, ...sigv4, ...apiKey]) {
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
    // One policy per distinct content, shared like the cache policies (an account holds 20 of each).
    const headerList = [...headers.values()];
    const queryList = [...queryStrings];
    const canonical = JSON.stringify([[...headers.keys()].sort(), [...queryList].sort()]);
    const id = `WriteRequestPolicy${createHash('sha256').update(canonical).digest('hex').slice(0, 8).toUpperCase()}`;
    const existing = this.node.tryFindChild(id);
    if (existing) return existing as cloudfront.OriginRequestPolicy;
    return new cloudfront.OriginRequestPolicy(this, id, {
      comment: `Forwards to writes on cached paths: headers ${headerList.join(',')}${queryList.length ? `; query ${queryList.join(',')}` : ''}`.slice(0, 128),
      headerBehavior: headerList.length ? cloudfront.OriginRequestHeaderBehavior.allowList(...headerList) : cloudfront.OriginRequestHeaderBehavior.none(),
      queryStringBehavior: queryList.length
        ? cloudfront.OriginRequestQueryStringBehavior.allowList(...queryList)
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
}
