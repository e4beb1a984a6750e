import * as kms from 'aws-cdk-lib/aws-kms';

/** Options of the strict compliance profile. */
export interface StrictComplianceOptions {
  /**
   * Customer-managed key for every log group, secret, queue, SNS topic and bucket that has no
   * key of its own. A `kms.Key` of the same stack gets the statements it needs added to its
   * policy (CloudWatch Logs, CloudWatch alarms, CloudFront log delivery, this account through
   * Secrets Manager, SQS, SNS and S3); an imported key's policy must already allow them.
   * @default - one new key per stack (`ComplianceKey`, rotation on, retained on deletion)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Reserved concurrency given to every Lambda function that reserves none. Route functions
   * set their own in the route table (`function.reservedConcurrentExecutions`); this is the
   * floor for the rest (stream consumers, model routes). Reserved concurrency is taken from the
   * account's pool, which must keep 100 unreserved.
   * @default - none: functions keep what they set, and the packs flag those that set nothing
   */
  readonly reservedConcurrency?: number;
  /**
   * Turn inline IAM policies (`AWS::IAM::Policy`, e.g. a role's DefaultPolicy) into customer-
   * managed policies attached to the same roles (IAMNoInlinePolicy). Same statements; a managed
   * policy holds at most 6,144 characters.
   * @default true
   */
  readonly managedPolicies?: boolean;
}

/**
 * A compliance profile: what `Compliance.apply` enforces on every resource under a scope.
 * `strict` makes the NIST 800-53 R5, PCI DSS 3.2.1 and HIPAA Security packs of cdk-nag pass on
 * the kit's constructs by changing them; `standard` changes nothing and records, on each
 * resource, why its finding stands and what strict would do at what price
 * (lib/compliance/README.md).
 */
export class CompliancePolicy {
  /**
   * The kit's defaults, unchanged, made reviewable under the regulated packs: the kit's facts and
   * its AwsSolutions/Serverless reasons recorded for the equivalent regulated rules (as strict
   * does), and, for each resource strict would change (an AWS managed or service key, an inline
   * policy, no reserved concurrency), an acknowledgement saying what it has and what strict does
   * at what price. Only what is true of the resource is recorded: a bucket with no encryption
   * setting, or a topic without a key, keeps its finding.
   */
  public static standard(): CompliancePolicy {
    return new CompliancePolicy('standard', {});
  }

  /**
   * Customer-managed KMS keys for log groups, secrets, queues, topics and buckets; managed
   * instead of inline IAM policies; optional reserved concurrency for every function; the kit's
   * acknowledgements carried over to the regulated packs' equivalent rules.
   */
  public static strict(options: StrictComplianceOptions = {}): CompliancePolicy {
    const concurrency = options.reservedConcurrency;
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
      throw new Error(`reservedConcurrency must be a whole number of at least 1, got ${concurrency}`);
    }
    return new CompliancePolicy('strict', options);
  }

  private constructor(
    /** Name of the profile: `standard` or `strict`. */
    public readonly name: string,
    /** The profile's options. */
    public readonly options: StrictComplianceOptions,
  ) {}
}
