import { IConstruct } from 'constructs';
import { acknowledge } from '../shared/nag';

/** The three regulated cdk-nag packs the strict profile targets, by their rule-id prefix. */
export const REGULATED_PACKS = ['NIST.800.53.R5', 'PCI.DSS.321', 'HIPAA.Security'] as const;

/** One of REGULATED_PACKS. */
export type RegulatedPack = (typeof REGULATED_PACKS)[number];

const NIST: RegulatedPack = 'NIST.800.53.R5';
const PCI: RegulatedPack = 'PCI.DSS.321';
const HIPAA: RegulatedPack = 'HIPAA.Security';

/**
 * The packs (cdk-nag 3.0.2) that carry each rule the kit acknowledges: the same check under the
 * same name. An acknowledgement in a pack without the rule would hide nothing, and the placement
 * test (test/nag-placement.test.ts) reports it, which keeps this table true.
 */
export const PACK_RULES = {
  APIGWAssociatedWithWAF: [NIST, PCI],
  APIGWCacheEnabledAndEncrypted: [NIST, PCI, HIPAA],
  APIGWSSLEnabled: [NIST, PCI, HIPAA],
  CloudWatchLogGroupEncrypted: [NIST, PCI, HIPAA],
  IAMNoInlinePolicy: [NIST, PCI, HIPAA],
  LambdaConcurrency: [NIST, HIPAA],
  LambdaDLQ: [NIST, HIPAA],
  LambdaInsideVPC: [NIST, PCI, HIPAA],
  S3BucketReplicationEnabled: [NIST, PCI, HIPAA],
  S3DefaultEncryptionKMS: [NIST, PCI, HIPAA],
  SecretsManagerRotationEnabled: [NIST, HIPAA],
  SecretsManagerUsingKMSKey: [NIST, PCI, HIPAA],
  WAFv2LoggingEnabled: [NIST, PCI, HIPAA],
} as const satisfies Record<string, readonly RegulatedPack[]>;

/** A rule the regulated packs share (PACK_RULES). */
export type RegulatedRule = keyof typeof PACK_RULES;

/**
 * The kit's AwsSolutions and Serverless acknowledgements whose finding is the same fact as a
 * regulated pack's rule (a secret without rotation, a function with no DLQ, a stage without a
 * web ACL): under the strict profile the same reason is recorded for that rule, on the same
 * construct, so one reason is written once.
 */
export const EQUIVALENT_RULES: Readonly<Record<string, RegulatedRule>> = {
  'AwsSolutions-SMG4': 'SecretsManagerRotationEnabled',
  'Serverless-LambdaDLQ': 'LambdaDLQ',
  'AwsSolutions-APIG3': 'APIGWAssociatedWithWAF',
};

/** Acknowledges `rule` in every regulated pack that has it, on the construct it concerns. */
export function acknowledgeInPacks(construct: IConstruct, rule: RegulatedRule, reason: string): void {
  for (const pack of PACK_RULES[rule]) acknowledge(construct, `${pack}-${rule}`, reason);
}
