import { Aspects, IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';
import { CompliancePolicy } from './compliance-policy';
import { acknowledgeKitFacts } from './kit-facts';
import { acknowledgeInPacks, EQUIVALENT_RULES, PACK_RULES } from './pack-rules';
import { acknowledgePricedChoices, ownerOf } from './priced-choices';
import { allowAccountThroughServices, allowCloudWatchLogs, allowServicePrincipal } from '../shared/key-policies';
import { acknowledgementsOn } from '../shared/nag';

/** Services through which this account's principals may use the profile's key. */
const KEY_USERS = ['secretsmanager', 'sqs', 'sns', 's3'];

/**
 * Applies a compliance profile to every resource under a scope (an app, a stage or a stack),
 * including resources of constructs that are not the kit's. See lib/compliance/README.md.
 */
export class Compliance {
  /**
   * Enforces `policy` on every resource under `scope`, as an aspect run at synth: `strict`
   * changes resources, `standard` changes none and records why each remaining finding stands.
   */
  public static apply(scope: IConstruct, policy: CompliancePolicy): void {
    Aspects.of(scope).add(new ComplianceAspect(policy));
  }

  private constructor() {}
}

/** The key each stack uses when the policy names none. */
const stackKeys = new WeakMap<Stack, kms.IKey>();

class ComplianceAspect implements IAspect {
  /** Per stack: logical-id tokens of buckets that receive S3 server access logs. */
  private readonly logTargets = new WeakMap<Stack, Set<string>>();

  constructor(private readonly policy: CompliancePolicy) {}

  public visit(node: IConstruct): void {
    this.carryOverAcknowledgements(node);
    acknowledgeKitFacts(node);
    if (node instanceof s3.CfnBucket && this.receivesServerAccessLogs(node)) {
      // A fact under every profile: no key could be used here.
      acknowledgeInPacks(
        ownerOf(node),
        'S3DefaultEncryptionKMS',
        'Target of S3 server access logs, which S3 delivers only to buckets whose default encryption is SSE-S3 (AES256); SSE-KMS is not supported there',
      );
      return;
    }
    if (this.policy.name === 'standard') acknowledgePricedChoices(node);
    else this.enforce(node);
  }

  /** The strict profile: keys, managed policies and reserved concurrency where a resource has none. */
  private enforce(node: IConstruct): void {
    const options = this.policy.options;
    if (node instanceof logs.CfnLogGroup && node.kmsKeyId === undefined) {
      const key = this.keyFor(node);
      allowCloudWatchLogs(key);
      node.kmsKeyId = key.keyArn;
    } else if (node instanceof secretsmanager.CfnSecret && node.kmsKeyId === undefined) {
      node.kmsKeyId = this.accountKeyFor(node).keyArn;
    } else if (node instanceof sqs.CfnQueue && node.kmsMasterKeyId === undefined) {
      node.kmsMasterKeyId = this.accountKeyFor(node).keyArn;
      node.sqsManagedSseEnabled = undefined;
    } else if (node instanceof sns.CfnTopic && node.kmsMasterKeyId === undefined) {
      const key = this.accountKeyFor(node);
      // CloudWatch alarms publish to topics; it cannot use the AWS managed key of SNS.
      allowServicePrincipal(key, 'AllowCloudWatchAlarmsOfThisAccount', 'cloudwatch.amazonaws.com');
      node.kmsMasterKeyId = key.keyArn;
    } else if (node instanceof s3.CfnBucket) {
      this.encryptBucket(node);
    } else if (node instanceof iam.CfnPolicy && options.managedPolicies !== false) {
      toManagedPolicy(node);
    } else if (node instanceof lambda.CfnFunction && node.reservedConcurrentExecutions === undefined && options.reservedConcurrency !== undefined) {
      node.reservedConcurrentExecutions = options.reservedConcurrency;
    }
  }

  private encryptBucket(bucket: s3.CfnBucket): void {
    const rules = Stack.of(bucket).resolve(bucket.bucketEncryption)?.serverSideEncryptionConfiguration as
      | Array<{ serverSideEncryptionByDefault?: { sseAlgorithm?: string } }>
      | undefined;
    if (rules?.some((r) => r.serverSideEncryptionByDefault?.sseAlgorithm?.startsWith('aws:kms'))) return;
    const key = this.accountKeyFor(bucket);
    // CloudFront standard logs (the kit's edge access-log bucket) are written by the log
    // delivery service, which needs its own grant on a customer-managed key.
    allowServicePrincipal(key, 'AllowLogDeliveryToBuckets', 'delivery.logs.amazonaws.com', false);
    bucket.bucketEncryption = {
      serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.keyArn }, bucketKeyEnabled: true }],
    };
  }

  private receivesServerAccessLogs(bucket: s3.CfnBucket): boolean {
    const stack = Stack.of(bucket);
    let targets = this.logTargets.get(stack);
    if (!targets) {
      targets = new Set<string>();
      for (const other of stack.node.findAll()) {
        if (!(other instanceof s3.CfnBucket)) continue;
        const logging = stack.resolve(other.loggingConfiguration) as { destinationBucketName?: unknown } | undefined;
        if (logging?.destinationBucketName !== undefined) targets.add(JSON.stringify(logging.destinationBucketName));
      }
      this.logTargets.set(stack, targets);
    }
    return targets.has(JSON.stringify(stack.resolve(bucket.ref)));
  }

  /**
   * Records the reason of an AwsSolutions or Serverless acknowledgement on this construct for
   * the regulated packs' rule that checks the same fact (EQUIVALENT_RULES), on the same construct.
   */
  private carryOverAcknowledgements(node: IConstruct): void {
    const placed = acknowledgementsOf(node);
    for (const [id, reason] of placed) {
      const rule = EQUIVALENT_RULES[id];
      // An acknowledgement placed for the regulated rule itself says more: it stays.
      if (rule && !PACK_RULES[rule].some((pack) => placed.has(`${pack}-${rule}`))) acknowledgeInPacks(node, rule, reason);
    }
  }

  /** The key of a resource's stack, its policy letting this account use it through KEY_USERS. */
  private accountKeyFor(node: IConstruct): kms.IKey {
    const key = this.keyFor(node);
    allowAccountThroughServices(key, KEY_USERS);
    return key;
  }

  private keyFor(node: IConstruct): kms.IKey {
    if (this.policy.options.encryptionKey) return this.policy.options.encryptionKey;
    const stack = Stack.of(node);
    let key = stackKeys.get(stack);
    if (!key) {
      key = new kms.Key(stack, 'ComplianceKey', {
        description: `Customer-managed key of the ${this.policy.name} compliance profile for ${stack.stackName}: logs, secrets, queues, topics, buckets`,
        enableKeyRotation: true,
      });
      stackKeys.set(stack, key);
    }
    return key;
  }
}

/**
 * Replaces an inline policy by a customer-managed policy with the same statements, attached to
 * the same roles, users and groups (IAMNoInlinePolicy), at the same construct path: the logical
 * id stays, and whatever depends on the policy's L2 construct (a function waiting for its role's
 * DefaultPolicy) depends on the managed policy instead.
 */
function toManagedPolicy(inline: iam.CfnPolicy): void {
  const parent = inline.node.scope!;
  const id = inline.node.id;
  const { policyDocument, roles, users, groups } = inline;
  parent.node.tryRemoveChild(id);
  new iam.CfnManagedPolicy(parent, id, { policyDocument, roles, users, groups });
}

/**
 * Acknowledgements placed on this construct by the kit's `acknowledge` and by
 * `Validations.of(...).acknowledge` (construct metadata), rule id to reason.
 */
function acknowledgementsOf(node: IConstruct): Map<string, string> {
  const found = new Map(acknowledgementsOn(node));
  for (const entry of node.node.metadata) {
    if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
    for (const [qualified, reason] of Object.entries(entry.data as Record<string, string>)) {
      const id = qualified.includes('::') ? qualified.slice(qualified.indexOf('::') + 2) : qualified;
      if (!found.has(id)) found.set(id, reason);
    }
  }
  return found;
}
