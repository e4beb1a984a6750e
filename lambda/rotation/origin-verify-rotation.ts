/**
 * Secrets Manager rotation function of the origin-verify secret (lib/edge/origin-verification.ts).
 *
 * The value lives in three places: the secret, the regional web ACL's allow rule (what the
 * origin accepts) and the CloudFront origin's custom header (what CloudFront sends). The four
 * steps keep every request that CloudFront sends accepted:
 *
 * - createSecret: a new random value, staged AWSPENDING.
 * - setSecret: the web ACL accepts {pending, current, whatever CloudFront is configured to send};
 *   after `WAF_SETTLE_SECONDS` CloudFront is given the pending value. Edges that still send the
 *   old value are accepted, and so are edges that already send the new one.
 * - testSecret: the web ACL accepts the pending value and CloudFront is configured to send it.
 * - finishSecret: AWSCURRENT moves to the pending version (the old one becomes AWSPREVIOUS).
 *
 * The old value stays accepted until the next rotation's setSecret replaces the accepted set:
 * one rotation interval, far beyond CloudFront's propagation (minutes).
 */
import { randomInt } from 'node:crypto';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { DistributionOriginHeader, WebAclAllowRule } from './origin-targets';
import { WafClient } from './waf-client';

/** Environment the construct sets (lib/edge/origin-secret-rotation.ts ORIGIN_ROTATION_ENV writes the same names). */
export const ROTATION_ENV = {
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

export interface RotationEvent {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

export interface RotationDeps {
  readonly secrets: SecretsManagerClient;
  readonly webAcl: Pick<WebAclAllowRule, 'acceptedValues' | 'accept'>;
  readonly distribution: Pick<DistributionOriginHeader, 'sentValue' | 'send'>;
  /** JSON field of the secret holding the value. */
  readonly secretField: string;
  readonly valueLength: number;
  /** Waits between widening the web ACL and changing CloudFront's header. */
  readonly settle: () => Promise<void>;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random alphanumeric value: safe in a header and in a WAF byte match, as the construct's first value. */
export function newHeaderValue(length: number): string {
  let value = '';
  for (let i = 0; i < length; i++) value += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return value;
}

export async function rotate(event: RotationEvent, deps: RotationDeps): Promise<void> {
  const { SecretId: secretId, ClientRequestToken: token } = event;
  const metadata = await deps.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  const stages = metadata.VersionIdsToStages ?? {};
  if (stages[token]?.includes('AWSCURRENT') && event.Step !== 'finishSecret') {
    // Already current: this version's rotation finished earlier (a repeated invocation).
    return;
  }
  const valueOf = async (query: { VersionId?: string; VersionStage: string }): Promise<string> => {
    const answer = await deps.secrets.send(new GetSecretValueCommand({ SecretId: secretId, ...query }));
    const value = (JSON.parse(answer.SecretString ?? '{}') as Record<string, unknown>)[deps.secretField];
    if (typeof value !== 'string' || value === '') throw new Error(`secret ${secretId} has no string field ${deps.secretField}`);
    return value;
  };
  const current = () => valueOf({ VersionStage: 'AWSCURRENT' });
  const pending = () => valueOf({ VersionId: token, VersionStage: 'AWSPENDING' });

  switch (event.Step) {
    case 'createSecret': {
      const currentAnswer = await deps.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
      try {
        await pending();
        return; // created by an earlier attempt of this rotation
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
      const fields = JSON.parse(currentAnswer.SecretString ?? '{}') as Record<string, unknown>;
      await deps.secrets.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: token,
          SecretString: JSON.stringify({ ...fields, [deps.secretField]: newHeaderValue(deps.valueLength) }),
          VersionStages: ['AWSPENDING'],
        }),
      );
      return;
    }
    case 'setSecret': {
      const next = await pending();
      const sent = await deps.distribution.sentValue();
      // What CloudFront sends now (the current value, or an abandoned rotation's) stays accepted.
      const accepted = unique([next, await current(), sent]);
      const before = await deps.webAcl.acceptedValues();
      // Already accepting all of them (a repeated setSecret): no change, no wait.
      if (!accepted.every((v) => before.includes(v))) {
        await deps.webAcl.accept(accepted);
        await deps.settle();
      }
      await deps.distribution.send(next);
      return;
    }
    case 'testSecret': {
      const next = await pending();
      const accepted = await deps.webAcl.acceptedValues();
      if (!accepted.includes(next)) throw new Error('testSecret: the web ACL does not accept the pending value');
      const sent = await deps.distribution.sentValue();
      if (sent !== next) throw new Error('testSecret: CloudFront is not configured to send the pending value');
      return;
    }
    case 'finishSecret': {
      const currentVersion = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      if (currentVersion === token) return;
      await deps.secrets.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          RemoveFromVersionId: currentVersion,
        }),
      );
      return;
    }
    default:
      throw new Error(`unknown rotation step ${(event as { Step: string }).Step}`);
  }
}

function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
}

/** Deps from the environment the construct sets; endpoints and credentials are the SDK's defaults. */
export function rotationDepsFromEnv(env: NodeJS.ProcessEnv = process.env): RotationDeps {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set: the OriginVerification construct sets it`);
    return value;
  };
  const region = need('AWS_REGION');
  const headerName = need(ROTATION_ENV.headerName);
  const scope = need(ROTATION_ENV.webAclScope);
  if (scope !== 'REGIONAL' && scope !== 'CLOUDFRONT') throw new Error(`${ROTATION_ENV.webAclScope} must be REGIONAL or CLOUDFRONT, got ${scope}`);
  const settleMs = Number(env[ROTATION_ENV.wafSettleSeconds] ?? '300') * 1000;
  return {
    secrets: new SecretsManagerClient({ region }),
    webAcl: new WebAclAllowRule(new WafClient({ region }), {
      name: need(ROTATION_ENV.webAclName),
      id: need(ROTATION_ENV.webAclId),
      scope,
      ruleName: need(ROTATION_ENV.ruleName),
      headerName,
    }),
    distribution: new DistributionOriginHeader(new CloudFrontClient({ region }), need(ROTATION_ENV.distributionId), headerName),
    secretField: need(ROTATION_ENV.secretField),
    valueLength: Number(env[ROTATION_ENV.valueLength] ?? '48'),
    settle: () => new Promise((resolve) => setTimeout(resolve, settleMs)),
  };
}

let deps: RotationDeps | undefined;

export async function handler(event: RotationEvent): Promise<void> {
  deps ??= rotationDepsFromEnv();
  console.log(JSON.stringify({ message: 'rotation step', step: event.Step, secretId: event.SecretId, token: event.ClientRequestToken }));
  await rotate(event, deps);
}
