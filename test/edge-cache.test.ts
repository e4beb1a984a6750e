import * as path from 'path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { ApiAuthorization, CacheableApi, CacheableApiProps, parseRouteTable, RouteTable } from '../lib';
import { CATALOG_HANDLERS_DIR, catalogRoutes } from '../lib/sample';
import { EdgeCacheOptions, edgeInvalidationPaths, edgePathPattern, planEdgeBehaviors } from '../lib/edge/edge-cache';
import { nagApp, synthFindings } from './support/nag';
import { normalizedTemplate } from './support/template';

// Synthesized once for the whole file, with the feature flags `cdk synth` uses (nagApp reads cdk.json):
// the sample catalog behind an EdgeCache with every default, and a variant with every option.
const PUBLIC = ApiAuthorization.publicAccess('Public catalog content served through the edge cache');

// The sample's route table without its data-cache layer, which would need a DataCache (VPC,
// ElastiCache) that has nothing to do with the edge; every edge setting stays the sample's.
const sampleRoutes = (): RouteTable =>
  Object.fromEntries(Object.entries(catalogRoutes()).map(([key, r]) => [key, { ...r, cache: r.cache && { ...r.cache, data: undefined } }]));

const app = nagApp();
const stack = new Stack(app, 'EdgeCacheStack');
const api = new CacheableApi(stack, 'Api', { routes: sampleRoutes(), authorization: PUBLIC });
const edge = api.edge!; // CacheableApi creates the EdgeCache for its edge-cached routes

const entry = path.join(CATALOG_HANDLERS_DIR, 'get-item.ts');
const PRODUCT_ROUTES: RouteTable = {
  'GET /products/{id}': {
    entry,
    authorization: PUBLIC,
    request: { headers: { 'Accept-Language': false } },
    cache: {
      edge: { ttl: Duration.minutes(5), minTtl: Duration.seconds(10), maxTtl: Duration.hours(1) },
      key: { headers: ['Accept-Language'], cookies: ['currency'] },
    },
  },
  'PUT /products/{id}': { entry, request: { headers: { 'If-Match': false } } },
  'GET /products/{id}/reviews': { entry, authorization: PUBLIC },
  'GET /products/featured': { entry, authorization: PUBLIC, cache: { edge: { ttl: Duration.seconds(60) } } },
  'GET /health': { entry, authorization: PUBLIC },
};
const VERSION_NEW = '11111111-2222-3333-4444-555555555555';
const VERSION_OLD = '66666666-7777-8888-9999-000000000000';
const WEB_ACL_ARN = 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/edge/0a1b2c3d-4e5f';
const custom = new Stack(app, 'EdgeCacheCustomStack', { env: { account: '111122223333', region: 'eu-west-1' } });
const customApi = new CacheableApi(custom, 'Api', { routes: PRODUCT_ROUTES, authorization: ApiAuthorization.iam(), edge: {
  priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
  webAclArn: WEB_ACL_ARN,
  domainNames: ['api.example.com'],
  certificate: acm.Certificate.fromCertificateArn(custom, 'Certificate', 'arn:aws:acm:us-east-1:111122223333:certificate/abc-123'),
  geoRestriction: cloudfront.GeoRestriction.allowlist('DE', 'FR'),
  logBucket: s3.Bucket.fromBucketName(custom, 'Logs', 'central-cloudfront-logs'),
  forwardAuthorizationToWrites: true,
  originVerification: {
    headerName: 'x-cdn-verify',
    rotation: false,
    secretVersionId: VERSION_NEW,
    previousSecretVersionId: VERSION_OLD,
    managedRulesAction: 'count',
    logDestinationArn: 'arn:aws:logs:eu-west-1:111122223333:log-group:aws-waf-logs-products',
  },
} });
const customEdge = customApi.edge!;

const findings = synthFindings(app);
const template = Template.fromStack(stack);
const customTemplate = Template.fromStack(custom);

type Json = Record<string, any>;
const distributionOf = (t: Template): Json =>
  (Object.values(t.findResources('AWS::CloudFront::Distribution'))[0] as Json).Properties.DistributionConfig;
const behaviorsOf = (t: Template): Json[] => distributionOf(t).CacheBehaviors;
const behaviorOf = (t: Template, pattern: string): Json => {
  const found = behaviorsOf(t).filter((b) => b.PathPattern === pattern);
  expect(found).toHaveLength(1);
  return found[0];
};
const resourceOf = (t: Template, ref: { Ref: string }): Json => t.toJSON().Resources[ref.Ref];
const cachePolicyOf = (t: Template, pattern: string): Json =>
  resourceOf(t, behaviorOf(t, pattern).CachePolicyId).Properties.CachePolicyConfig;
const acknowledged = (construct: IConstruct): string[] =>
  construct.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.keys(m.data as Record<string, string>))
    .map((id) => id.replace(/^Annotation::/, ''));

const CACHING_DISABLED = cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId;
const ALL_VIEWER_EXCEPT_HOST = cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId;
const ALL_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'];
const SECRET_REF = (secretLogicalId: RegExp, suffix: string) => ({
  'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: expect.stringMatching(secretLogicalId) }, suffix]],
});

test('cdk-nag AwsSolutions and Serverless checks report no unacknowledged finding', () => {
  expect(findings).toEqual([]);
});

test('template snapshot of the EdgeCache resources and outputs (asset hashes normalised)', () => {
  // The API's own resources are CacheableApi's snapshot, not this one.
  const normalized = normalizedTemplate(stack) as { Resources: Json; Outputs: Json };
  const ours = (section: Json) => Object.fromEntries(Object.entries(section).filter(([id]) => id.startsWith('ApiEdge')));
  expect({ Resources: ours(normalized.Resources), Outputs: ours(normalized.Outputs) }).toMatchSnapshot();
});

describe('cache behaviors of the sample catalog', () => {
  test('one behavior per edge-cached route pattern, most specific first', () => {
    expect(behaviorsOf(template).map((b) => b.PathPattern)).toEqual(['/items/*', '/items']);
    expect(edge.behaviors.map((b) => [b.pathPattern, b.cachedRoute?.key])).toEqual([
      ['/items/*', 'GET /items/{id}'],
      ['/items', 'GET /items'],
    ]);
  });

  test('GET /items: TTLs of the spec, keyed on exactly limit and cursor, gzip and Brotli', () => {
    expect(cachePolicyOf(template, '/items')).toMatchObject({
      DefaultTTL: 30,
      MinTTL: 0,
      MaxTTL: 30,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['limit', 'cursor'] },
        HeadersConfig: { HeaderBehavior: 'none' },
        CookiesConfig: { CookieBehavior: 'none' },
        EnableAcceptEncodingGzip: true,
        EnableAcceptEncodingBrotli: true,
      },
    });
    expect(behaviorOf(template, '/items')).toMatchObject({
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS'],
      CachedMethods: ['GET', 'HEAD'],
      ViewerProtocolPolicy: 'redirect-to-https',
      Compress: true,
      ResponseHeadersPolicyId: { Ref: expect.stringMatching(/^ApiEdgeSecurityHeaders/) },
    });
    expect(behaviorOf(template, '/items').OriginRequestPolicyId).toBeUndefined();
  });

  test('GET /items/{id} shares /items/* with PUT and DELETE: all methods reach the origin, only GET/HEAD are cached', () => {
    expect(cachePolicyOf(template, '/items/*')).toMatchObject({
      DefaultTTL: 60,
      MinTTL: 0,
      MaxTTL: 60,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'none' },
        CookiesConfig: { CookieBehavior: 'none' },
        EnableAcceptEncodingGzip: true,
        EnableAcceptEncodingBrotli: true,
      },
    });
    const items = behaviorOf(template, '/items/*');
    expect(items).toMatchObject({ AllowedMethods: ALL_METHODS, CachedMethods: ['GET', 'HEAD'], ViewerProtocolPolicy: 'redirect-to-https' });
    // The PUT body's Content-Type (which selects the request model) is forwarded, nothing else.
    expect(resourceOf(template, items.OriginRequestPolicyId).Properties.OriginRequestPolicyConfig).toMatchObject({
      HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Content-Type'] },
      QueryStringsConfig: { QueryStringBehavior: 'none' },
      CookiesConfig: { CookieBehavior: 'none' },
    });
  });

  test('the default behavior (writes, uncached routes) does not cache and forwards every viewer header but Host', () => {
    expect(distributionOf(template).DefaultCacheBehavior).toMatchObject({
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST,
      AllowedMethods: ALL_METHODS,
      ViewerProtocolPolicy: 'redirect-to-https',
      Compress: true,
      ResponseHeadersPolicyId: { Ref: expect.stringMatching(/^ApiEdgeSecurityHeaders/) },
    });
  });

  test('invalidation path templates for the purge function', () => {
    expect(edge.invalidationPaths).toEqual(['/items', '/items?*', '/items/{id}']);
  });
});

describe('distribution', () => {
  test('HTTPS only, HTTP/2 and HTTP/3, IPv6, price class 100, default certificate', () => {
    const config = distributionOf(template);
    expect(config).toMatchObject({ Enabled: true, HttpVersion: 'http2and3', IPV6Enabled: true, PriceClass: 'PriceClass_100' });
    expect(config.ViewerCertificate).toBeUndefined();
    expect(config.WebACLId).toBeUndefined();
    expect(config.Restrictions).toBeUndefined();
  });

  test('origin: the stage of the regional API over HTTPS with TLS 1.2, and its timeouts', () => {
    expect(distributionOf(template).Origins).toEqual([
      {
        Id: expect.any(String),
        DomainName: {
          'Fn::Join': ['', [{ Ref: expect.stringMatching(/^Api/) }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]],
        },
        // The stage's Ref is its name: `/v1`, and the distribution waits for the stage.
        OriginPath: { 'Fn::Join': ['', ['/', { Ref: expect.stringMatching(/^ApiDeploymentStagev1/) }]] },
        CustomOriginConfig: {
          OriginProtocolPolicy: 'https-only',
          OriginSSLProtocols: ['TLSv1.2'],
          OriginReadTimeout: 30,
          OriginKeepaliveTimeout: 30,
        },
        OriginCustomHeaders: [{ HeaderName: 'x-origin-verify', HeaderValue: SECRET_REF(/^ApiEdgeOriginVerificationSecret/, ':SecretString:headerValue::}}') }],
      },
    ]);
  });

  test('security headers on every response', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: {
          StrictTransportSecurity: { AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Preload: true, Override: true },
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
          XSSProtection: { Protection: true, ModeBlock: true, Override: true },
          ContentSecurityPolicy: { ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'", Override: true },
        },
      },
    });
  });

  test('access logs go to an encrypted, private, SSL-only bucket with ACLs for CloudFront, expiry and its own access logs', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    const [accessLogsId] = Object.keys(buckets).filter((id) => id.startsWith('ApiEdgeAccessLogs'));
    const [serverLogsId] = Object.keys(buckets).filter((id) => id.startsWith('ApiEdgeServerAccessLogs'));
    expect(distributionOf(template).Logging).toEqual({
      Bucket: { 'Fn::GetAtt': [accessLogsId, 'RegionalDomainName'] },
      IncludeCookies: false,
      Prefix: 'cloudfront/',
    });
    for (const id of [accessLogsId, serverLogsId]) {
      expect(buckets[id]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          LifecycleConfiguration: {
            Rules: [
              expect.objectContaining({ ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: 'Enabled' }),
              expect.objectContaining({ ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
            ],
          },
          // Audit evidence: an overwrite or delete keeps the previous version until retention ends.
          VersioningConfiguration: { Status: 'Enabled' },
        },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    expect(buckets[accessLogsId].Properties).toMatchObject({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: serverLogsId }, LogFilePrefix: 'access-logs/' },
    });
  });

  test('outputs the distribution domain name and id', () => {
    const outputs = template.toJSON().Outputs as Json;
    const byDescription = (d: RegExp) => Object.values(outputs).filter((o: any) => d.test(o.Description ?? ''));
    expect(byDescription(/Domain name of the CloudFront distribution/)).toEqual([
      expect.objectContaining({ Value: { 'Fn::GetAtt': [expect.stringMatching(/^ApiEdgeDistribution/), 'DomainName'] } }),
    ]);
    expect(byDescription(/Id of the CloudFront distribution/)).toEqual([
      expect.objectContaining({ Value: { Ref: expect.stringMatching(/^ApiEdgeDistribution/) } }),
    ]);
    expect(byDescription(/Secret holding the origin-verify header value/)).toEqual([
      expect.objectContaining({ Value: { Ref: expect.stringMatching(/^ApiEdgeOriginVerificationSecret/) } }),
    ]);
    expect(edge.url).toMatch(/^https:\/\//);
  });

  test('the edge findings without a fix are acknowledged on the distribution and the secret, with reasons', () => {
    expect(acknowledged(edge.distribution).sort()).toEqual(['AwsSolutions-CFR1', 'AwsSolutions-CFR2', 'AwsSolutions-CFR4']);
    // The default secret rotates (test/edge-security.test.ts); the manual-runbook variant does not.
    expect(acknowledged(edge.originVerification!.secret)).toEqual([]);
    expect(acknowledged(customEdge.originVerification!.secret)).toEqual(['AwsSolutions-SMG4']);
    expect(acknowledged(customEdge.distribution)).toEqual([]);
  });
});

describe('origin verification', () => {
  test('a generated 48-character alphanumeric secret holds the header value', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: '{}',
        GenerateStringKey: 'headerValue',
        PasswordLength: 48,
        ExcludePunctuation: true,
        IncludeSpace: false,
      },
    });
  });

  test('a regional web ACL on the stage blocks by default and allows only the header CloudFront adds', () => {
    const acls = template.findResources('AWS::WAFv2::WebACL');
    expect(Object.keys(acls)).toHaveLength(1);
    const [aclId, acl] = Object.entries(acls)[0] as [string, Json];
    expect(acl.Properties).toMatchObject({
      Scope: 'REGIONAL',
      DefaultAction: { Block: { CustomResponse: { ResponseCode: 403, CustomResponseBodyKey: 'forbidden' } } },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
    });
    const rules = acl.Properties.Rules as Json[];
    // No rate-based rule here: behind CloudFront the viewer's address is only in X-Forwarded-For,
    // which the viewer writes (the per-viewer limit is EdgeWebAcl's, in the CLOUDFRONT scope).
    expect(rules.map((r) => [r.Priority, r.Name])).toEqual([
      [1, 'AWSManagedRulesKnownBadInputsRuleSet'],
      [2, 'AWSManagedRulesCommonRuleSet'],
      [3, 'AllowOriginVerified'],
    ]);
    expect(JSON.stringify(acl)).not.toMatch(/RateBasedStatement|ForwardedIPConfig|FORWARDED_IP/);
    for (const rule of rules) {
      expect(rule.VisibilityConfig).toEqual({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: rule.Name });
    }
    expect(rules[0]).toMatchObject({ OverrideAction: { None: {} }, Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS' } } });
    // The API enforces its own body limits; the core rule set's 8 KB body rule only counts.
    expect(rules[1]).toMatchObject({
      OverrideAction: { None: {} },
      Statement: { ManagedRuleGroupStatement: { RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }] } },
    });
    // Exactly the value CloudFront sends, on that single header: the same dynamic reference.
    const originHeader = distributionOf(template).Origins[0].OriginCustomHeaders[0];
    expect(rules[2]).toMatchObject({ Action: { Allow: {} } });
    expect(rules[2].Statement).toEqual({
      ByteMatchStatement: {
        FieldToMatch: { SingleHeader: { Name: 'x-origin-verify' } },
        PositionalConstraint: 'EXACTLY',
        SearchString: originHeader.HeaderValue,
        TextTransformations: [{ Priority: 0, Type: 'NONE' }],
      },
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
      ResourceArn: {
        'Fn::Join': ['', Match.arrayWith(['/stages/', { Ref: Match.stringLikeRegexp('^ApiDeploymentStagev1') }])],
      },
    });
    // On a rotation the web ACL is updated before the distribution sends the new value.
    template.hasResource('AWS::CloudFront::Distribution', { DependsOn: Match.arrayWith([aclId]) });
    // WAF logging is on by default (details in test/edge-security.test.ts).
    template.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 1);
  });
});

describe('every option (custom domain, edge web ACL, authenticated writes, rotation)', () => {
  test('custom domain with TLS 1.2, edge web ACL, geo restriction, price class, existing log bucket', () => {
    expect(distributionOf(customTemplate)).toMatchObject({
      Aliases: ['api.example.com'],
      ViewerCertificate: {
        AcmCertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc-123',
        MinimumProtocolVersion: 'TLSv1.2_2021',
        SslSupportMethod: 'sni-only',
      },
      WebACLId: WEB_ACL_ARN,
      Restrictions: { GeoRestriction: { RestrictionType: 'whitelist', Locations: ['DE', 'FR'] } },
      PriceClass: 'PriceClass_All',
      Logging: { Bucket: 'central-cloudfront-logs.s3.eu-west-1.amazonaws.com' },
    });
    expect(distributionOf(customTemplate).Origins[0].DomainName).toEqual({
      'Fn::Join': ['', [{ Ref: expect.stringMatching(/^Api/) }, '.execute-api.eu-west-1.', { Ref: 'AWS::URLSuffix' }]],
    });
    customTemplate.resourceCountIs('AWS::S3::Bucket', 0);
    expect(customEdge.url).toBe('https://api.example.com');
  });

  test('literal paths first, and uncached routes an edge-cached pattern would capture get their own uncached behavior', () => {
    expect(behaviorsOf(customTemplate).map((b) => b.PathPattern)).toEqual(['/products/featured', '/products/*/reviews', '/products/*']);
    expect(behaviorOf(customTemplate, '/products/*/reviews')).toMatchObject({
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST,
      AllowedMethods: ALL_METHODS,
    });
    expect(cachePolicyOf(customTemplate, '/products/featured')).toMatchObject({ DefaultTTL: 60, MinTTL: 0, MaxTTL: 60 });
  });

  test('declared headers and cookies key the cache; Authorization is added for the IAM write that shares the path', () => {
    expect(cachePolicyOf(customTemplate, '/products/*')).toMatchObject({
      DefaultTTL: 300,
      MinTTL: 10,
      MaxTTL: 3600,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Accept-Language', 'Authorization'] },
        CookiesConfig: { CookieBehavior: 'whitelist', Cookies: ['currency'] },
      },
    });
    const products = behaviorOf(customTemplate, '/products/*');
    expect(products.AllowedMethods).toEqual(ALL_METHODS);
    expect(resourceOf(customTemplate, products.OriginRequestPolicyId).Properties.OriginRequestPolicyConfig.HeadersConfig).toEqual({
      HeaderBehavior: 'whitelist',
      Headers: ['Content-Type', 'If-Match', 'X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256'],
    });
  });

  test('during a rotation the web ACL accepts the current and the previous version; WAF logs redact the header', () => {
    const acl = Object.values(customTemplate.findResources('AWS::WAFv2::WebACL'))[0] as Json;
    const rules = acl.Properties.Rules as Json[];
    const secretRef = (version: string) => SECRET_REF(/^ApiEdgeOriginVerificationSecret/, `:SecretString:headerValue::${version}}}`);
    expect(rules[2].Statement).toEqual({
      OrStatement: {
        Statements: [VERSION_NEW, VERSION_OLD].map((version) => ({
          ByteMatchStatement: {
            FieldToMatch: { SingleHeader: { Name: 'x-cdn-verify' } },
            PositionalConstraint: 'EXACTLY',
            SearchString: secretRef(version),
            TextTransformations: [{ Priority: 0, Type: 'NONE' }],
          },
        })),
      },
    });
    expect(distributionOf(customTemplate).Origins[0].OriginCustomHeaders).toEqual([
      { HeaderName: 'x-cdn-verify', HeaderValue: secretRef(VERSION_NEW) },
    ]);
    expect(rules[0].OverrideAction).toEqual({ Count: {} });
    expect(rules[1].OverrideAction).toEqual({ Count: {} });
    customTemplate.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      LogDestinationConfigs: ['arn:aws:logs:eu-west-1:111122223333:log-group:aws-waf-logs-products'],
      RedactedFields: ['x-cdn-verify', 'authorization', 'x-api-key', 'cookie'].map((Name) => ({ SingleHeader: { Name } })),
    });
  });
});

describe('pure helpers', () => {
  test('edgePathPattern turns every parameter into a wildcard', () => {
    expect(edgePathPattern('/items/{id}')).toBe('/items/*');
    expect(edgePathPattern('/items')).toBe('/items');
    expect(edgePathPattern('/shops/{shop}/items/{id}')).toBe('/shops/*/items/*');
    expect(edgePathPattern('/files/{path+}')).toBe('/files/*');
  });

  test('edgeInvalidationPaths: each route\'s path, and path?* for the query-string variants of query-keyed routes', () => {
    const routes = parseRouteTable({
      'GET /items': { entry, request: { queryStrings: { page: false } }, cache: { edge: { ttl: Duration.seconds(5) }, key: { queryStrings: ['page'] } } },
      'GET /items/{id}': { entry, cache: { edge: { ttl: Duration.seconds(5) } } },
      'GET /items/{id}/variants': {
        entry,
        request: { queryStrings: { size: false } },
        cache: { edge: { ttl: Duration.seconds(5) }, key: { queryStrings: ['size'] } },
      },
      'GET /tags': { entry, cache: { data: { ttl: Duration.seconds(5) } } },
      'PUT /items/{id}': { entry },
    });
    expect(edgeInvalidationPaths(routes)).toEqual(['/items', '/items?*', '/items/{id}', '/items/{id}/variants', '/items/{id}/variants?*']);
  });

  test('planEdgeBehaviors orders behaviors as API Gateway resolves paths', () => {
    const plan = planEdgeBehaviors(
      parseRouteTable({
        'GET /a/{x}': { entry, cache: { edge: { ttl: Duration.seconds(5) } } },
        'GET /a/{x}/c': { entry, cache: { edge: { ttl: Duration.seconds(5) } } },
        'GET /a/b': { entry, cache: { edge: { ttl: Duration.seconds(5) } } },
        'GET /a/b/{y}': { entry },
        'GET /z/{x}': { entry },
      }),
    );
    expect(plan.map((p) => [p.pathPattern, p.cachedRoute?.key ?? 'uncached'])).toEqual([
      ['/a/b/*', 'uncached'],
      ['/a/b', 'GET /a/b'],
      ['/a/*/c', 'GET /a/{x}/c'],
      ['/a/*', 'GET /a/{x}'],
    ]);
  });
});

describe('invalid props throw, naming the prop', () => {
  const scratch = new Stack(nagApp(), 'Scratch');
  let n = 0;
  const attempt = (props: EdgeCacheOptions, apiProps: Partial<CacheableApiProps> = {}) => () =>
    new CacheableApi(scratch, `Api${n++}`, {
      routes: sampleRoutes(),
      authorization: ApiAuthorization.iam(),
      ...apiProps,
      edge: { forwardAuthorizationToWrites: true, ...props },
    });
  const certificate = acm.Certificate.fromCertificateArn(scratch, 'Cert', 'arn:aws:acm:us-east-1:111122223333:certificate/abc');

  test('distribution props', () => {
    expect(attempt({ priceClass: 'PriceClass_300' as unknown as cloudfront.PriceClass })).toThrow(/^priceClass must be one of PriceClass_100, PriceClass_200, PriceClass_All/);
    expect(attempt({ domainNames: ['api.example.com'] })).toThrow(/^domainNames needs certificate/);
    expect(attempt({ certificate })).toThrow(/^certificate needs domainNames/);
    expect(attempt({ domainNames: [], certificate })).toThrow(/^domainNames must list at least one/);
    expect(attempt({ domainNames: ['API.example.com'], certificate })).toThrow(/^domainNames: "API.example.com"/);
    expect(attempt({ webAclArn: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/api/abc' })).toThrow(
      /^webAclArn must be the ARN of a CLOUDFRONT-scope WAFv2 web ACL, which lives in us-east-1/,
    );
    expect(attempt({ logBucket: s3.Bucket.fromBucketName(scratch, 'Logs', 'logs'), logRetention: Duration.days(7) })).toThrow(/^logRetention and logRemovalPolicy/);
    expect(attempt({ logRetention: Duration.hours(12) })).toThrow(/^logRetention must be an integer between 1 and 3650 days/);
    expect(attempt({ originReadTimeout: Duration.seconds(0) })).toThrow(/^originReadTimeout must be an integer between 1 and 180 seconds/);
    expect(attempt({ originKeepaliveTimeout: Duration.minutes(5) })).toThrow(/^originKeepaliveTimeout must be/);
    expect(attempt({ verifyOrigin: false, originVerification: { headerName: 'x-verify' } })).toThrow(/^originVerification applies only with verifyOrigin/);
  });

  test('origin verification props', () => {
    expect(attempt({ originVerification: { headerName: 'x-amz-verify' } })).toThrow(/^originVerification.headerName must be/);
    expect(attempt({ originVerification: { headerName: 'Cookie' } })).toThrow(/^originVerification.headerName must be/);
    // The spoofable regional rate limit is gone; setting it says where the real one lives.
    expect(attempt({ originVerification: { rateLimit: 500 } })).toThrow(/^originVerification.rateLimit was removed: .*X-Forwarded-For.*EdgeWebAcl/);
    expect(attempt({ originVerification: { managedRulesAction: 'allow' as unknown as 'count' } })).toThrow(/^originVerification.managedRulesAction/);
    expect(attempt({ originVerification: { rotation: false, secretVersionId: 'v2' } })).toThrow(/^originVerification.secretVersionId must be a Secrets Manager version id/);
    expect(attempt({ originVerification: { rotation: false, secretVersionId: VERSION_NEW, previousSecretVersionId: VERSION_NEW } })).toThrow(
      /^originVerification.previousSecretVersionId must differ/,
    );
    expect(attempt({ originVerification: { logDestinationArn: 'arn:aws:logs:eu-west-1:111122223333:log-group:api-logs' } })).toThrow(
      /^originVerification.logDestinationArn: WAF logs only to log groups named aws-waf-logs-/,
    );
  });

  test('an IAM write sharing an edge-cached path needs forwardAuthorizationToWrites', () => {
    expect(attempt({ forwardAuthorizationToWrites: false })).toThrow(
      /^forwardAuthorizationToWrites: 'PUT \/items\/\{id\}', 'DELETE \/items\/\{id\}' share the edge-cached path pattern \/items\/\* with 'GET \/items\/\{id\}'/,
    );
  });

  test('a stage that already has a web ACL cannot take the origin-verification one', () => {
    const withAcl = { webAclArn: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/api/abc' };
    expect(attempt({}, withAcl)).toThrow(/^verifyOrigin: the API stage already has a web ACL/);
    expect(attempt({ verifyOrigin: false }, withAcl)).not.toThrow();
  });

  test('route tables CloudFront cannot cache as declared', () => {
    const plan = (routes: RouteTable) => () => planEdgeBehaviors(parseRouteTable(routes));
    expect(plan({ 'GET /': { entry, cache: { edge: { ttl: Duration.seconds(5) } } } })).toThrow(/^routes\['GET \/'\].cache.edge: the root path cannot be edge-cached/);
    expect(plan({ 'GET /a': { entry, cache: { edge: { ttl: Duration.seconds(0) } } } })).toThrow(/^routes\['GET \/a'\].cache.edge: ttl and maxTtl of 0/);
    expect(
      plan({ 'GET /a': { entry, request: { headers: { 'X-Tenant': true } }, cache: { edge: { ttl: Duration.seconds(5) } } } }),
    ).toThrow(/^routes\['GET \/a'\].cache.key.headers must include every header in request.headers .* missing: X-Tenant/);
    expect(
      plan({ 'GET /a': { entry, cache: { edge: { ttl: Duration.seconds(5) }, key: { headers: ['Accept-Encoding'] } } } }),
    ).toThrow(/^routes\['GET \/a'\].cache.key.headers: CloudFront cannot forward or key on Accept-Encoding/);
    expect(
      plan({
        'GET /a/{x}/d': { entry, cache: { edge: { ttl: Duration.seconds(5) } } },
        'GET /a/{x}/{y}/d': { entry },
      }),
    ).toThrow(/^routes: CloudFront cannot tell 'GET \/a\/\{x\}\/\{y\}\/d' from 'GET \/a\/\{x\}\/d': the path pattern \/a\/\*\/d, evaluated first/);
  });
});
