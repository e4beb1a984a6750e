import { Names, SecretValue, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { withDefaults } from '../shared/defaults';
import {
  DEFAULT_ORIGIN_VERIFICATION,
  FORBIDDEN_ORIGIN_CUSTOM_HEADERS,
  MANAGED_RULE_COUNT_OVERRIDES,
  ORIGIN_VERIFY_SECRET_FIELD,
} from './edge-cache-defaults';
import { acknowledge } from '../shared/nag';

/** Settings of the check that lets the API answer only requests that came through CloudFront. */
export interface OriginVerificationOptions {
  /**
   * Name of the header CloudFront adds to every origin request. A viewer sending the same
   * header has it overwritten by CloudFront.
   * @default 'x-origin-verify'
   */
  readonly headerName?: string;
  /**
   * Secrets Manager version id of the header value CloudFront sends and the web ACL accepts.
   * Pin it when rotating (see the rotation runbook in lib/edge/README.md): a changed reference
   * is what makes CloudFormation resolve the secret again.
   * @default - the `AWSCURRENT` version at the time each resource is created or updated
   */
  readonly secretVersionId?: string;
  /**
   * Secrets Manager version id of the previous header value, still accepted by the web ACL
   * while CloudFront's edges switch to the new one. Set it for the duration of a rotation only.
   * @default - only the current value is accepted
   */
  readonly previousSecretVersionId?: string;
  /**
   * Removed: a regional web ACL behind CloudFront sees the viewer's address only in
   * `X-Forwarded-For`, whose first entry the viewer writes, so a rate limit keyed on it could
   * be evaded and turned against other addresses. Rate-limit viewers with an `EdgeWebAcl`
   * (CLOUDFRONT scope, us-east-1) passed as `EdgeCache` `webAclArn`. Setting it throws.
   * @deprecated use `EdgeWebAcl` `rateLimit`
   */
  readonly rateLimit?: number;
  /**
   * Customer-managed KMS key of the header-value secret.
   * @default - the AWS managed key of Secrets Manager
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What the AWS managed rule groups (Core rule set, Known bad inputs) do with a match:
   * `block`, or `count` to only record it (CloudWatch metrics and sampled requests).
   * @default 'block'
   */
  readonly managedRulesAction?: 'block' | 'count';
  /**
   * Where the web ACL logs requests: the ARN of a CloudWatch Logs log group whose name starts
   * with `aws-waf-logs-` (without the trailing `:*`), an S3 bucket or a Firehose stream. The
   * origin-verify header is redacted from the logs.
   * @default - no WAF logging (CloudWatch metrics and sampled requests only)
   */
  readonly logDestinationArn?: string;
}

/** Properties of an `OriginVerification`. */
export interface OriginVerificationProps extends OriginVerificationOptions {
  /** The REST API stage to protect. */
  readonly stage: apigw.Stage;
}

/**
 * A shared secret between CloudFront and a regional REST API stage: CloudFront adds it as a
 * custom origin header, and a REGIONAL WAFv2 web ACL on the stage allows only requests that
 * carry it (after AWS managed rule groups), blocking everything else.
 *
 * It holds no rate-based rule: behind CloudFront, the regional web ACL sees CloudFront's
 * address as the source, and the viewer's only in `X-Forwarded-For`, whose first entries the
 * viewer writes (WAF's forwarded-IP rate keys read the first). A per-viewer rate limit lives
 * in the CLOUDFRONT-scope web ACL (`EdgeWebAcl`), which keys on the connection's address.
 *
 * The header value lives in Secrets Manager and reaches the template only as a dynamic
 * reference (`{{resolve:secretsmanager:...}}`), which CloudFormation resolves at deploy time.
 */
export class OriginVerification extends Construct {
  /** The secret that holds the header value (JSON field `headerValue`). */
  public readonly secret: secretsmanager.Secret;
  /** Name of the header CloudFront adds. */
  public readonly headerName: string;
  /**
   * The header value as a dynamic reference, for an origin's `customHeaders`. It is resolved
   * by CloudFormation, never by CDK: the plain value appears in no template or asset.
   */
  public readonly headerValue: string;
  /** The regional web ACL. */
  public readonly webAcl: wafv2.CfnWebACL;
  /** The association of the web ACL with the stage. */
  public readonly association: wafv2.CfnWebACLAssociation;
  /** The web ACL's logging configuration, when `logDestinationArn` is set. */
  public readonly loggingConfiguration?: wafv2.CfnLoggingConfiguration;

  constructor(scope: Construct, id: string, props: OriginVerificationProps) {
    super(scope, id);
    const settings = withDefaults(DEFAULT_ORIGIN_VERIFICATION, props);
    validate(settings, 'originVerification');
    this.headerName = settings.headerName;

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: `Value of the ${settings.headerName} header CloudFront adds to origin requests; the API's web ACL allows only requests that carry it`,
      encryptionKey: props.encryptionKey,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: ORIGIN_VERIFY_SECRET_FIELD,
        passwordLength: settings.secretLength,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'Shared with CloudFront and WAF, which only read it at deployment: a hosted rotation would change it without redeploying them. Rotated with the documented two-value runbook (secretVersionId / previousSecretVersionId)',
    );

    const valueOf = (versionId: string | undefined) =>
      SecretValue.secretsManager(this.secret.secretArn, { jsonField: ORIGIN_VERIFY_SECRET_FIELD, versionId }).unsafeUnwrap();
    this.headerValue = valueOf(props.secretVersionId);
    const accepted = [this.headerValue];
    if (props.previousSecretVersionId) accepted.push(valueOf(props.previousSecretVersionId));

    const matches = (value: string): wafv2.CfnWebACL.StatementProperty => ({
      byteMatchStatement: {
        fieldToMatch: { singleHeader: { Name: settings.headerName } },
        positionalConstraint: 'EXACTLY',
        searchString: value,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    });
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const managedGroup = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: settings.managedRulesAction === 'count' ? { count: {} } : { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ruleActionOverrides: MANAGED_RULE_COUNT_OVERRIDES[name]?.length
            ? MANAGED_RULE_COUNT_OVERRIDES[name].map((rule) => ({ name: rule, actionToUse: { count: {} } }))
            : undefined,
        },
      },
      visibilityConfig: visibility(name),
    });
    const noStore = [{ name: 'cache-control', value: 'no-store' }];

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: `Allows only requests that came through CloudFront, which adds the ${settings.headerName} header, and blocks the rest`,
      defaultAction: { block: { customResponse: { responseCode: 403, customResponseBodyKey: 'forbidden', responseHeaders: noStore } } },
      customResponseBodies: {
        forbidden: { contentType: 'APPLICATION_JSON', content: '{"code":"FORBIDDEN","message":"Forbidden"}' },
      },
      visibilityConfig: visibility(Names.uniqueId(this).slice(-128)),
      rules: [
        managedGroup('AWSManagedRulesKnownBadInputsRuleSet', 1),
        managedGroup('AWSManagedRulesCommonRuleSet', 2),
        {
          name: 'AllowOriginVerified',
          priority: 3,
          action: { allow: {} },
          statement: accepted.length === 1 ? matches(accepted[0]) : { orStatement: { statements: accepted.map(matches) } },
          visibilityConfig: visibility('AllowOriginVerified'),
        },
      ],
    });

    this.association = new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    if (props.logDestinationArn) {
      this.loggingConfiguration = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
        resourceArn: this.webAcl.attrArn,
        logDestinationConfigs: [props.logDestinationArn],
        redactedFields: [{ singleHeader: { Name: settings.headerName } }],
      });
    }
  }

  /** The custom header to add to the CloudFront origin. */
  public get originCustomHeaders(): Record<string, string> {
    return { [this.headerName]: this.headerValue };
  }
}

const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

function validate(
  settings: typeof DEFAULT_ORIGIN_VERIFICATION & OriginVerificationOptions,
  prop: string,
): void {
  const name = settings.headerName;
  if (
    !HEADER_NAME.test(name) ||
    /^(x-amz-|x-amzn-|x-edge-|cloudfront-)/i.test(name) ||
    FORBIDDEN_ORIGIN_CUSTOM_HEADERS.includes(name.toLowerCase())
  ) {
    throw new Error(
      `${prop}.headerName must be 1 to 64 letters, digits or hyphens, not a standard header CloudFront manages and not start with x-amz-, x-amzn-, x-edge- or cloudfront- (reserved by CloudFront), got "${name}"`,
    );
  }
  if (settings.rateLimit !== undefined) {
    throw new Error(
      `${prop}.rateLimit was removed: the regional web ACL sees the viewer only in X-Forwarded-For, which the viewer writes, so that limit could be evaded and aimed at other addresses. ` +
        'Use EdgeWebAcl({ rateLimit }) in us-east-1 (CLOUDFRONT scope, keyed on the real viewer address) and pass its ARN as edge.webAclArn',
    );
  }
  if (settings.managedRulesAction !== 'block' && settings.managedRulesAction !== 'count') {
    throw new Error(`${prop}.managedRulesAction must be 'block' or 'count', got "${settings.managedRulesAction}"`);
  }
  for (const key of ['secretVersionId', 'previousSecretVersionId'] as const) {
    const value = settings[key];
    if (value !== undefined && !Token.isUnresolved(value) && !VERSION_ID.test(value)) {
      throw new Error(`${prop}.${key} must be a Secrets Manager version id (32 to 64 letters, digits or hyphens), got "${value}"`);
    }
  }
  if (settings.previousSecretVersionId !== undefined && settings.previousSecretVersionId === settings.secretVersionId) {
    throw new Error(`${prop}.previousSecretVersionId must differ from secretVersionId: it names the value being rotated out`);
  }
  const arn = settings.logDestinationArn;
  if (arn !== undefined && !Token.isUnresolved(arn)) {
    if (!/^arn:aws[a-z-]*:(logs|s3|firehose):/.test(arn)) {
      throw new Error(`${prop}.logDestinationArn must be the ARN of a CloudWatch Logs log group, an S3 bucket or a Firehose stream, got "${arn}"`);
    }
    if (arn.includes(':log-group:') && (!arn.includes(':log-group:aws-waf-logs-') || arn.endsWith(':*'))) {
      throw new Error(`${prop}.logDestinationArn: WAF logs only to log groups named aws-waf-logs-..., given without the trailing ":*", got "${arn}"`);
    }
  }
}
