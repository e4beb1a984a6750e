import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { acknowledgeInPacks, RegulatedRule } from './pack-rules';

/**
 * The regulated packs' rules that the strict profile fixes at a price (a key, a share of the
 * account's concurrency, a managed policy) and the standard profile acknowledges, resource by
 * resource, saying what the resource has and what strict would do (lib/compliance/README.md).
 */
export const PRICED_RULES = [
  'CloudWatchLogGroupEncrypted',
  'SecretsManagerUsingKMSKey',
  'S3DefaultEncryptionKMS',
  'IAMNoInlinePolicy',
  'LambdaConcurrency',
] as const satisfies readonly RegulatedRule[];

const KEY_PRICE =
  'a customer-managed key (CompliancePolicy.strict: one per stack, $1/key/month, plus $0.03 per 10,000 requests) is the regulated choice: ' +
  'its key policy, not IAM alone, decides who may decrypt, and CloudTrail records every use';

/**
 * The standard profile: for each resource the strict profile would change, records (in the
 * packs that have the rule) what the resource has today and what strict does at what price.
 * Each state is checked first, so a resource with no encryption at all is never said to have any:
 * its finding stays.
 */
export function acknowledgePricedChoices(node: IConstruct): void {
  const stack = Stack.of(node);
  if (node instanceof logs.CfnLogGroup && node.kmsKeyId === undefined) {
    acknowledgeInPacks(
      ownerOf(node),
      'CloudWatchLogGroupEncrypted',
      `Encrypted at rest by CloudWatch Logs, which encrypts every log group with a key of its own; ${KEY_PRICE}`,
    );
  } else if (node instanceof secretsmanager.CfnSecret && [undefined, 'aws/secretsmanager'].includes(stack.resolve(node.kmsKeyId))) {
    acknowledgeInPacks(
      ownerOf(node),
      'SecretsManagerUsingKMSKey',
      `Encrypted with the AWS managed key of Secrets Manager (aws/secretsmanager), usable only through Secrets Manager in this account; ${KEY_PRICE}`,
    );
  } else if (node instanceof s3.CfnBucket && isSseS3(node)) {
    acknowledgeInPacks(ownerOf(node), 'S3DefaultEncryptionKMS', `Encrypted at rest with SSE-S3 (AES-256, keys managed by S3); SSE-KMS with ${KEY_PRICE}`);
  } else if (node instanceof iam.CfnPolicy) {
    acknowledgeInPacks(
      ownerOf(node),
      'IAMNoInlinePolicy',
      'An inline policy, embedded in the role it names and deleted with it; the same statements as a customer-managed policy (CompliancePolicy.strict, ' +
        'managedPolicies) are the regulated choice: no charge, but each counts against the account\'s quota of customer-managed policies (1,500 by default)',
    );
  } else if (node instanceof lambda.CfnFunction && node.reservedConcurrentExecutions === undefined) {
    acknowledgeInPacks(
      ownerOf(node),
      'LambdaConcurrency',
      'No reserved concurrency: the function scales within the account\'s unreserved concurrency. Reserving it (CompliancePolicy.strict\'s reservedConcurrency, ' +
        'or a route\'s function.reservedConcurrentExecutions) is the regulated choice: no charge, but it is taken from the account\'s pool, which must keep 100 unreserved, ' +
        'and it also caps the function (calls beyond it are throttled)',
    );
  }
}

/** The L2 construct whose default child is this resource, where the kit places acknowledgements. */
export function ownerOf(resource: IConstruct): IConstruct {
  const parent = resource.node.scope;
  return parent && parent.node.defaultChild === resource ? parent : resource;
}

/** True when every default-encryption rule of the bucket names SSE-S3 (AES256): nothing else is claimed. */
function isSseS3(bucket: s3.CfnBucket): boolean {
  const rules = Stack.of(bucket).resolve(bucket.bucketEncryption)?.serverSideEncryptionConfiguration as
    | Array<{ serverSideEncryptionByDefault?: { sseAlgorithm?: string } }>
    | undefined;
  return rules !== undefined && rules.length > 0 && rules.every((r) => r.serverSideEncryptionByDefault?.sseAlgorithm === 'AES256');
}
