/**
 * Defaults of WAF logging (`WafLoggingOptions`, both kit web ACLs) and of the rotation of the
 * origin-verification secret, kept in one place.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

/** Defaults of `WafLoggingOptions`: both kit web ACLs log by default. */
export const DEFAULT_WAF_LOGGING = {
  /** Every request the web ACL inspects is logged (secret headers redacted). */
  logging: true,
  /** WAF logs show who was blocked and why; three months, like the CloudFront access logs' 90-day expiry. */
  logRetention: logs.RetentionDays.THREE_MONTHS,
  /** Audit evidence outlives the stack; the name carries the stack's UUID so it never blocks a redeploy. */
  logRemovalPolicy: RemovalPolicy.RETAIN,
} as const;

/**
 * Headers that carry a secret and are redacted from every WAF log record: credentials of the
 * API's authorizers (`authorization`, API Gateway API keys) and session cookies. The regional
 * web ACL adds the origin-verify header.
 */
export const WAF_LOG_REDACTED_HEADERS: readonly string[] = ['authorization', 'x-api-key', 'cookie'];

/** Defaults of the origin-verification secret's rotation. */
export const DEFAULT_ORIGIN_ROTATION = {
  /** Rotated on a schedule whenever the distribution is known. */
  rotation: true,
  /** Rotate the origin-verify value every 30 days. */
  rotationInterval: Duration.days(30),
  /**
   * Seconds the rotation function waits between widening the web ACL to the new value and giving
   * CloudFront that value: WAF documents a web ACL change's propagation as "from a few seconds
   * to a number of minutes".
   */
  wafSettleSeconds: 300,
  /** Timeout of the rotation function: the WAF wait plus the API calls of setSecret. */
  functionTimeout: Duration.minutes(8),
} as const;

/** Accepted range of the rotation interval (Secrets Manager's AutomaticallyAfterDays). */
export const ROTATION_INTERVAL_DAYS = { min: 1, max: 1000 } as const;
