/**
 * The origin-verification check of the regional web ACL, for the dev server: a request must
 * carry the header CloudFront adds, with a value the web ACL accepts. The values come from the
 * origin-verify secret (a real Secrets Manager, or moto_server on loopback): the versions staged
 * AWSCURRENT, AWSPREVIOUS and AWSPENDING, which is what the deployed web ACL accepts around a
 * rotation (lib/edge/README.md, "Rotation").
 *
 * Caching bound: the accepted set is read at most once per `maxAgeMs` (default 5 s), and again
 * on a value it does not hold once the last read is `minRefreshMs` old (default 1 s). So a value
 * staged by a rotation is accepted within `minRefreshMs`, and a value no longer staged is
 * refused within `maxAgeMs`.
 */
import { timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface DevOriginVerification {
  /** Header CloudFront adds (lower case). */
  readonly headerName: string;
  /** Whether `value` (the header's value, undefined when absent) is accepted. */
  allows(value: string | undefined): Promise<boolean>;
}

export interface SecretOriginVerificationOptions {
  readonly secrets: SecretsManagerClient;
  /** Name or ARN of the origin-verify secret. */
  readonly secretId: string;
  /** @default 'x-origin-verify' */
  readonly headerName?: string;
  /** JSON field of the value. @default 'headerValue' */
  readonly field?: string;
  /** @default 5000 */
  readonly maxAgeMs?: number;
  /** @default 1000 */
  readonly minRefreshMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The stages whose values the web ACL accepts during and after a rotation. */
export const ACCEPTED_STAGES = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'] as const;

export function secretOriginVerification(options: SecretOriginVerificationOptions): DevOriginVerification {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 5000;
  const minRefreshMs = options.minRefreshMs ?? 1000;
  const field = options.field ?? 'headerValue';
  let cached: { values: Buffer[]; readAt: number } | undefined;
  let reading: Promise<Buffer[]> | undefined;

  const readStage = async (stage: string): Promise<Buffer | undefined> => {
    try {
      const answer = await options.secrets.send(new GetSecretValueCommand({ SecretId: options.secretId, VersionStage: stage }));
      const value = (JSON.parse(answer.SecretString ?? '{}') as Record<string, unknown>)[field];
      return typeof value === 'string' && value !== '' ? Buffer.from(value) : undefined;
    } catch (error) {
      // AWSPREVIOUS before the first rotation, AWSPENDING outside one; a pending version
      // without a value yet (rotation just started) reads the same.
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };
  const read = (): Promise<Buffer[]> =>
    (reading ??= (async () => {
      const readAt = now();
      try {
        const values = (await Promise.all(ACCEPTED_STAGES.map(readStage))).filter((v): v is Buffer => v !== undefined);
        cached = { values, readAt };
        return values;
      } finally {
        reading = undefined;
      }
    })());
  const holds = (values: Buffer[], candidate: Buffer) => values.some((v) => v.length === candidate.length && timingSafeEqual(v, candidate));

  return {
    headerName: (options.headerName ?? 'x-origin-verify').toLowerCase(),
    async allows(value) {
      if (value === undefined || value === '') return false;
      const candidate = Buffer.from(value);
      const age = cached ? now() - cached.readAt : Infinity;
      const values = cached && age < maxAgeMs ? cached.values : await read();
      if (holds(values, candidate)) return true;
      // Possibly rotated in since the last read: look again, at most once per minRefreshMs.
      if (cached && now() - cached.readAt >= minRefreshMs) return holds(await read(), candidate);
      return false;
    },
  };
}
