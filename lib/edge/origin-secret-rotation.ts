import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { lambdaEntry } from '../functions/lambda-entry';
import { StatelessFunction } from '../functions/stateless-function';
import { acknowledge } from '../shared/nag';
import { DEFAULT_ORIGIN_ROTATION } from './edge-security-defaults';

/**
 * Environment of the rotation function; lambda/rotation/origin-verify-rotation.ts reads the same
 * names (ROTATION_ENV; lib/ and lambda/ never import each other, a test keeps them equal).
 */
export const ORIGIN_ROTATION_ENV = {
  secretField: 'SECRET_FIELD',
  headerName: 'HEADER_NAME',
  valueLength: 'VALUE_LENGTH',
  webAclName: 'WEB_ACL_NAME',
  webAclId: 'WEB_ACL_ID',
  webAclScope: 'WEB_ACL_SCOPE',
  ruleName: 'WEB_ACL_RULE_NAME',
  distributionId: 'ORIGIN_DISTRIBUTION_ID',
  wafSettleSeconds: 'WAF_SETTLE_SECONDS',
} as const;

/** Properties of an `OriginSecretRotation`. */
export interface OriginSecretRotationProps {
  /** The origin-verify secret. */
  readonly secret: secretsmanager.Secret;
  /** JSON field of the secret that holds the header value. */
  readonly secretField: string;
  /** Length of a new value (alphanumeric). */
  readonly valueLength: number;
  /** The regional web ACL and the name of its rule that accepts the header. */
  readonly webAcl: wafv2.CfnWebACL;
  readonly ruleName: string;
  readonly headerName: string;
  /** The distribution whose origin sends the header. */
  readonly distribution: cloudfront.IDistribution;
  /** Time between rotations. */
  readonly interval: Duration;
  /**
   * Customer-managed key of the function's log group.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * Rotates the origin-verify secret on a schedule: a rotation function (lambda/rotation/)
 * that widens the web ACL to the new value, then gives it to CloudFront, then makes it
 * current. Its role may touch only this secret, this web ACL and this distribution.
 */
export class OriginSecretRotation extends Construct {
  public readonly function: StatelessFunction;
  public readonly schedule: secretsmanager.CfnRotationSchedule;

  constructor(scope: Construct, id: string, props: OriginSecretRotationProps) {
    super(scope, id);
    const days = props.interval.toDays();
    this.function = new StatelessFunction(this, 'Function', {
      entry: lambdaEntry('rotation', 'origin-verify-rotation'),
      description: 'Rotates the origin-verify secret: web ACL first, then CloudFront, then AWSCURRENT',
      memorySize: 256,
      logEncryptionKey: props.logEncryptionKey,
      timeout: DEFAULT_ORIGIN_ROTATION.functionTimeout,
      environment: {
        [ORIGIN_ROTATION_ENV.secretField]: props.secretField,
        [ORIGIN_ROTATION_ENV.headerName]: props.headerName,
        [ORIGIN_ROTATION_ENV.valueLength]: String(props.valueLength),
        // Ref of a web ACL is "name|id|scope".
        [ORIGIN_ROTATION_ENV.webAclName]: Fn.select(0, Fn.split('|', props.webAcl.ref)),
        [ORIGIN_ROTATION_ENV.webAclId]: props.webAcl.attrId,
        [ORIGIN_ROTATION_ENV.webAclScope]: props.webAcl.scope,
        [ORIGIN_ROTATION_ENV.ruleName]: props.ruleName,
        [ORIGIN_ROTATION_ENV.distributionId]: props.distribution.distributionId,
        [ORIGIN_ROTATION_ENV.wafSettleSeconds]: String(DEFAULT_ORIGIN_ROTATION.wafSettleSeconds),
      },
    });
    // The four rotation calls, on this secret only (no GetRandomPassword: the function draws the
    // value itself, which keeps the role free of Resource "*").
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        resources: [props.secret.secretArn],
      }),
    );
    if (props.secret.encryptionKey) {
      // What reading and writing versions of this secret needs from its key, without grantEncryptDecrypt's wildcards.
      this.function.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.secret.encryptionKey.keyArn] }),
      );
    }
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['wafv2:GetWebACL', 'wafv2:UpdateWebACL'], resources: [props.webAcl.attrArn] }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudfront:GetDistributionConfig', 'cloudfront:UpdateDistribution'],
        resources: [Stack.of(this).formatArn({ service: 'cloudfront', region: '', resource: 'distribution', resourceName: props.distribution.distributionId })],
      }),
    );
    const permission = allowSecretsManager(this.function, props.secret);

    this.schedule = new secretsmanager.CfnRotationSchedule(this, 'Schedule', {
      secretId: props.secret.secretArn,
      rotationLambdaArn: this.function.functionArn,
      rotationRules: { scheduleExpression: `rate(${days} days)` },
      // The first value was drawn at deployment; rotating during a deployment would race
      // CloudFormation's own update of the web ACL and the distribution.
      rotateImmediatelyOnUpdate: false,
    });
    this.schedule.node.addDependency(permission, this.function.role!);
    acknowledge(
      this.function,
      'Serverless-LambdaDLQ',
      'Invoked by Secrets Manager once per rotation step, which records a failed step and retries the rotation: a DLQ would hold nothing to act on',
    );
  }
}

/** Lets Secrets Manager invoke the function for this secret only (no confused deputy). */
function allowSecretsManager(fn: StatelessFunction, secret: secretsmanager.Secret) {
  fn.addPermission('SecretsManagerInvoke', {
    principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
    sourceArn: secret.secretArn,
  });
  return fn.permissionsNode.findChild('SecretsManagerInvoke');
}
