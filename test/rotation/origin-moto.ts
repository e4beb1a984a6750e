/**
 * The origin-verify world on a moto_server: a secret, a REGIONAL web ACL whose allow rule
 * matches the header, and a CloudFront distribution whose origin sends it, shaped as
 * OriginVerification and EdgeCache deploy them.
 */
import { randomUUID } from 'node:crypto';
import { CloudFrontClient, CreateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DistributionOriginHeader, WebAclAllowRule } from '../../lambda/rotation/origin-targets';
import { RotationDeps } from '../../lambda/rotation/origin-verify-rotation';
import { WafClient } from '../../lambda/rotation/waf-client';

export const HEADER = 'x-origin-verify';
export const RULE = 'AllowOriginVerified';
const REGION = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface OriginWorld {
  readonly secretId: string;
  readonly secrets: SecretsManagerClient;
  readonly waf: WafClient;
  readonly webAcl: WebAclAllowRule;
  readonly webAclRef: { Name: string; Scope: 'REGIONAL'; Id: string };
  readonly distribution: DistributionOriginHeader;
  deps(overrides?: Partial<RotationDeps>): RotationDeps;
}

export async function originWorld(endpoint: string, firstValue: string): Promise<OriginWorld> {
  const secrets = new SecretsManagerClient({ endpoint, region: REGION, credentials });
  const cloudFront = new CloudFrontClient({ endpoint, region: 'us-east-1', credentials });
  const waf = new WafClient({ endpoint, region: REGION, credentials: () => credentials });
  const suffix = randomUUID().slice(0, 8);

  const secret = await secrets.send(new CreateSecretCommand({ Name: `origin-verify-${suffix}`, SecretString: JSON.stringify({ headerValue: firstValue }) }));
  const created = await waf.call<{ Summary: { Id: string; Name: string } }>('CreateWebACL', {
    Name: `origin-${suffix}`,
    Scope: 'REGIONAL',
    Description: 'Allows only requests that came through CloudFront',
    DefaultAction: { Block: { CustomResponse: { ResponseCode: 403, CustomResponseBodyKey: 'forbidden' } } },
    CustomResponseBodies: { forbidden: { ContentType: 'APPLICATION_JSON', Content: '{"code":"FORBIDDEN"}' } },
    VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'origin' },
    Rules: [
      {
        Name: 'AWSManagedRulesCommonRuleSet',
        Priority: 2,
        OverrideAction: { None: {} },
        Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } },
        VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'common' },
      },
      {
        Name: RULE,
        Priority: 3,
        Action: { Allow: {} },
        Statement: {
          ByteMatchStatement: {
            FieldToMatch: { SingleHeader: { Name: HEADER } },
            PositionalConstraint: 'EXACTLY',
            SearchString: Buffer.from(firstValue).toString('base64'),
            TextTransformations: [{ Priority: 0, Type: 'NONE' }],
          },
        },
        VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: RULE },
      },
    ],
  });
  const webAclRef = { Name: created.Summary.Name, Scope: 'REGIONAL' as const, Id: created.Summary.Id };
  const distribution = await cloudFront.send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: suffix,
        Comment: 'api',
        Enabled: true,
        Origins: {
          Quantity: 1,
          Items: [
            {
              Id: 'api',
              DomainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
              OriginPath: '/prod',
              CustomHeaders: { Quantity: 1, Items: [{ HeaderName: HEADER, HeaderValue: firstValue }] },
              CustomOriginConfig: { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'https-only' },
            },
          ],
        },
        DefaultCacheBehavior: { TargetOriginId: 'api', ViewerProtocolPolicy: 'redirect-to-https', CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad' },
      },
    }),
  );
  const webAcl = new WebAclAllowRule(waf, { name: webAclRef.Name, id: webAclRef.Id, scope: 'REGIONAL', ruleName: RULE, headerName: HEADER });
  const origin = new DistributionOriginHeader(cloudFront, distribution.Distribution!.Id!, HEADER);
  return {
    secretId: secret.ARN!,
    secrets,
    waf,
    webAcl,
    webAclRef,
    distribution: origin,
    deps: (overrides = {}) => ({
      secrets,
      webAcl,
      distribution: origin,
      secretField: 'headerValue',
      valueLength: 48,
      settle: async () => undefined,
      ...overrides,
    }),
  };
}
