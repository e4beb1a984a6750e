import { Aspects, Duration, IAspect, Names, SecretValue, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
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
import { DEFAULT_ORIGIN_ROTATION, DEFAULT_WAF_LOGGING, ROTATION_INTERVAL_DAYS } from './edge-security-defaults';
import { OriginSecretRotation } from './origin-secret-rotation';
import { checkLogDestination, redactedHeaders, WafLogging, WafLoggingOptions } from './waf-logging';

/** Name of the web ACL rule that allows requests carrying the header (the rotation rewrites its values). */
export const ORIGIN_VERIFIED_RULE = 'AllowOriginVerified';

/** Settings of the check that lets the API answer only requests that came through CloudFront. */
export interface OriginVerificationOptions extends WafLoggingOptions {
  /**
   * Name of the header CloudFront adds to every origin request. A viewer sending the same
   * header has it overwritten by CloudFront.
   * @default 'x-origin-verify'
   */
  readonly headerName?: string;
  /**
   * Rotate the header value on a schedule (`rotationInterval`) with a rotation function that
   * updates the web ACL and the distribution (lib/edge/README.md, "Rotation"). Applies when the
   * distribution is known (`EdgeCache`, or `rotateWith(distribution)`). `false` keeps the
   * manual runbook (`secretVersionId` / `previousSecretVersionId`).
   * @default true
   */
  readonly rotation?: boolean;
  /**
   * Time between two rotations, in whole days (1 to 1000). The previous value stays accepted
   * for one interval after a rotation.
   * @default Duration.days(30)
   */
  readonly rotationInterval?: Duration;
  /**
   * Secrets Manager version id of the header value CloudFront sends and the web ACL accepts,
   * for the manual runbook (only with `rotation: false`): a changed reference is what makes
   * CloudFormation resolve the secret again.
   * @default - the `AWSCURRENT` version at the time each resource is created or updated
   */
  readonly secretVersionId?: string;
  /**
   * Secrets Manager version id of the previous header value, still accepted by the web ACL
   * while CloudFront's edges switch to the new one (manual runbook, `rotation: false`). Set it
   * for the duration of a rotation only.
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
   * Customer-managed KMS key of the header-value secret, and of the WAF log group and the
   * rotation function's log group (its policy must then let CloudWatch Logs use it).
   * @default - the AWS managed key of Secrets Manager; CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What the AWS managed rule groups (Core rule set, Known bad inputs) do with a match:
   * `block`, or `count` to only record it (CloudWatch metrics and sampled requests).
   * @default 'block'
   */
  readonly managedRulesAction?: 'block' | 'count';
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
  /** The web ACL's logging configuration (unless `logging: false`). */
  public readonly loggingConfiguration?: wafv2.CfnLoggingConfiguration;
  /** The WAF log group, when logging to a log group this construct created. */
  public readonly wafLogGroup?: WafLogging['logGroup'];
  /** The scheduled rotation, once `rotateWith` has been given the distribution. */
  public rotation?: OriginSecretRotation;
  private readonly rotationWanted: boolean;
  private readonly encryptionKey?: kms.IKey;
  private readonly rotationInterval: Duration;

  constructor(scope: Construct, id: string, props: OriginVerificationProps) {
    super(scope, id);
    const settings = withDefaults(
      {
        ...DEFAULT_ORIGIN_VERIFICATION,
        logging: DEFAULT_WAF_LOGGING.logging,
        rotation: DEFAULT_ORIGIN_ROTATION.rotation,
        rotationInterval: DEFAULT_ORIGIN_ROTATION.rotationInterval,
      },
      props,
    );
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
    this.rotationWanted = settings.rotation;
    this.encryptionKey = props.encryptionKey;
    this.rotationInterval = settings.rotationInterval;
    // Decided once the tree is complete: EdgeCache hands over its distribution after this constructor.
    const self = this;
    Aspects.of(this).add(new (class implements IAspect {
      visit(node: unknown): void {
        if (node !== self || self.rotation) return;
        acknowledge(
          self.secret,
          'AwsSolutions-SMG4',
          self.rotationWanted
            ? 'No distribution was given (rotateWith): a rotation could not update the CloudFront origin header that must carry the value. Rotate with the documented two-value runbook'
            : 'rotation: false: rotated with the documented two-value runbook (secretVersionId / previousSecretVersionId), since CloudFront and WAF read the value only at deployment',
        );
      }
    })());

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
          name: ORIGIN_VERIFIED_RULE,
          priority: 3,
          action: { allow: {} },
          statement: accepted.length === 1 ? matches(accepted[0]) : { orStatement: { statements: accepted.map(matches) } },
          visibilityConfig: visibility(ORIGIN_VERIFIED_RULE),
        },
      ],
    });

    this.association = new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    if (settings.logging) {
      const logging = new WafLogging(this, 'Logging', {
        webAcl: this.webAcl,
        logDestinationArn: props.logDestinationArn,
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
        redactedHeaders: redactedHeaders(settings.headerName),
        encryptionKey: props.encryptionKey,
      });
      this.loggingConfiguration = logging.loggingConfiguration;
      this.wafLogGroup = logging.logGroup;
    }
  }

  /**
   * Schedules the rotation (unless `rotation: false`): the rotation function updates this web
   * ACL and the origin header of `distribution`. `EdgeCache` calls it; call it once yourself
   * when you built the distribution around `originCustomHeaders`.
   */
  public rotateWith(distribution: cloudfront.IDistribution): OriginSecretRotation | undefined {
    if (!this.rotationWanted) return undefined;
    if (this.rotation) throw new Error('OriginVerification.rotateWith: the rotation is already scheduled');
    this.rotation = new OriginSecretRotation(this, 'Rotation', {
      secret: this.secret,
      secretField: ORIGIN_VERIFY_SECRET_FIELD,
      valueLength: DEFAULT_ORIGIN_VERIFICATION.secretLength,
      webAcl: this.webAcl,
      ruleName: ORIGIN_VERIFIED_RULE,
      headerName: this.headerName,
      distribution,
      interval: this.rotationInterval,
      logEncryptionKey: this.encryptionKey,
    });
    return this.rotation;
  }

  /** The custom header to add to the CloudFront origin. */
  public get originCustomHeaders(): Record<string, string> {
    return { [this.headerName]: this.headerValue };
  }
}

const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

function validate(
  settings: typeof DEFAULT_ORIGIN_VERIFICATION & OriginVerificationOptions & { rotation: boolean; rotationInterval: Duration },
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
  if (settings.rotation && (settings.secretVersionId !== undefined || settings.previousSecretVersionId !== undefined)) {
    throw new Error(
      `${prop}.secretVersionId and ${prop}.previousSecretVersionId belong to the manual rotation runbook and would write old values back on every deployment; ` +
        `with the scheduled rotation (${prop}.rotation, default true) leave them out, or set ${prop}.rotation: false to keep them`,
    );
  }
  const days = settings.rotationInterval.toDays({ integral: false });
  if (!Token.isUnresolved(settings.rotationInterval.toMinutes()) && (!Number.isInteger(days) || days < ROTATION_INTERVAL_DAYS.min || days > ROTATION_INTERVAL_DAYS.max)) {
    throw new Error(`${prop}.rotationInterval must be a whole number of days from ${ROTATION_INTERVAL_DAYS.min} to ${ROTATION_INTERVAL_DAYS.max}, got ${settings.rotationInterval.toHumanString()}`);
  }
  if (settings.logDestinationArn !== undefined) checkLogDestination(settings.logDestinationArn, `${prop}.logDestinationArn`);
}
