import { Arn, ArnFormat, Aws, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DEFAULT_WAF_LOGGING, WAF_LOG_REDACTED_HEADERS } from './edge-security-defaults';

/** Where and how a kit web ACL logs the requests it inspects. */
export interface WafLoggingOptions {
  /**
   * Log every request the web ACL inspects. Off leaves CloudWatch metrics and sampled requests
   * only (no record of who was blocked, nor of what was allowed).
   * @default true
   */
  readonly logging?: boolean;
  /**
   * Where the web ACL logs: the ARN of a CloudWatch Logs log group whose name starts with
   * `aws-waf-logs-` (without the trailing `:*`), an S3 bucket or a Firehose stream. Secret
   * headers are redacted either way (see `redactedHeaders`).
   * @default - a new log group `aws-waf-logs-<unique name>-<stack uuid>` in this stack
   */
  readonly logDestinationArn?: string;
  /**
   * Retention of the log group created when no `logDestinationArn` is given.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the created log group when it leaves the stack. Its name carries the
   * stack's id, so a retained group never blocks a redeployment.
   * @default RemovalPolicy.RETAIN (WAF logs are audit evidence)
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Properties of a `WafLogging`. */
export interface WafLoggingProps extends WafLoggingOptions {
  /** The web ACL to log. */
  readonly webAcl: wafv2.CfnWebACL;
  /** Headers replaced by `REDACTED` in every log record (lower case). */
  readonly redactedHeaders: string[];
  /**
   * Customer-managed key of the created log group (its policy must let CloudWatch Logs use it).
   * @default - CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * WAF logging of a web ACL to a CloudWatch Logs group (created here, with retention and a
 * resource policy for WAF's log delivery) or to a destination the caller owns.
 */
export class WafLogging extends Construct {
  /** The log group, unless `logDestinationArn` was given. */
  public readonly logGroup?: logs.LogGroup;
  /** The web ACL's logging configuration. */
  public readonly loggingConfiguration: wafv2.CfnLoggingConfiguration;

  constructor(scope: Construct, id: string, props: WafLoggingProps) {
    super(scope, id);
    let destination = props.logDestinationArn;
    let policy: logs.CfnResourcePolicy | undefined;
    if (destination === undefined) {
      // WAF accepts only destinations named aws-waf-logs-*. The stack's UUID makes the name
      // unique per stack instance, so a retained group never collides with its successor.
      const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
      const logGroupName = `aws-waf-logs-${Names.uniqueResourceName(this, { maxLength: 120 })}-${stackUuid}`;
      this.logGroup = new logs.LogGroup(this, 'LogGroup', {
        logGroupName,
        retention: props.logRetention ?? DEFAULT_WAF_LOGGING.logRetention,
        removalPolicy: props.logRemovalPolicy ?? DEFAULT_WAF_LOGGING.logRemovalPolicy,
        encryptionKey: props.encryptionKey,
      });
      destination = Stack.of(this).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      // Without a policy of our own WAF appends this group to the account-wide AWSWAF-LOGS
      // policy, which outgrows its 5,120-character limit once an account has many web ACLs.
      policy = new logs.CfnResourcePolicy(this, 'DeliveryPolicy', {
        policyName: `${Names.uniqueResourceName(this, { maxLength: 200 })}-${stackUuid}`,
        policyDocument: Stack.of(this).toJsonString(
          new iam.PolicyDocument({
            statements: [
              new iam.PolicyStatement({
                principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
                actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                resources: [`${destination}:log-stream:*`],
                conditions: {
                  StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
                  ArnLike: { 'aws:SourceArn': Arn.format({ service: 'logs', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }, Stack.of(this)) },
                },
              }),
            ],
          }).toJSON(),
        ),
      });
      policy.node.addDependency(this.logGroup);
    }
    this.loggingConfiguration = new wafv2.CfnLoggingConfiguration(this, 'Configuration', {
      resourceArn: props.webAcl.attrArn,
      logDestinationConfigs: [destination],
      redactedFields: [...new Set(props.redactedHeaders.map((h) => h.toLowerCase()))].map((name) => ({ singleHeader: { Name: name } })),
    });
    if (policy) this.loggingConfiguration.node.addDependency(policy);
  }
}

/** Throws, naming `prop`, unless `arn` is a destination WAF can log to. */
export function checkLogDestination(arn: string, prop: string): void {
  if (Token.isUnresolved(arn)) return;
  if (!/^arn:aws[a-z-]*:(logs|s3|firehose):/.test(arn)) {
    throw new Error(`${prop} must be the ARN of a CloudWatch Logs log group, an S3 bucket or a Firehose stream, got "${arn}"`);
  }
  if (arn.includes(':log-group:') && (!arn.includes(':log-group:aws-waf-logs-') || arn.endsWith(':*'))) {
    throw new Error(`${prop}: WAF logs only to log groups named aws-waf-logs-..., given without the trailing ":*", got "${arn}"`);
  }
}

/** The headers every kit web ACL redacts from its logs, plus `extra` (e.g. the origin-verify header). */
export function redactedHeaders(...extra: string[]): string[] {
  return [...extra, ...WAF_LOG_REDACTED_HEADERS];
}
