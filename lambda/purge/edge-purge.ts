import { createHash } from 'node:crypto';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import type { DynamoDBRecord, DynamoDBStreamHandler } from 'aws-lambda';
import { fillTemplate, literalPrefix, parseTemplateList, StreamPurgeHandler, Template } from './templates';

/**
 * Environment of the edge purge (lib/sync/cache-sync.ts writes the same names).
 * `EDGE_PURGE_PATHS`: comma-separated viewer path templates, e.g. `/items/{id},/items*`.
 */
export const EDGE_PURGE_ENV = {
  distributionId: 'DISTRIBUTION_ID',
  paths: 'EDGE_PURGE_PATHS',
} as const;

/** CloudFront's limits (Developer Guide, "Concurrent invalidation request maximum"; path length). */
export const CLOUDFRONT_LIMITS = {
  /** Individual file paths in progress per distribution: one request never needs more. */
  pathsPerInvalidation: 3000,
  /** Wildcard paths in progress per distribution. */
  wildcardPathsPerInvalidation: 15,
  maxPathLength: 4000,
} as const;

export interface EdgePurgeSettings {
  readonly distributionId: string;
  readonly templates: readonly Template[];
  readonly maxPathsPerInvalidation: number;
  readonly maxWildcardsPerInvalidation: number;
  /** Calls per invalidation, the first included. */
  readonly maxAttempts: number;
  /** Backoff: full jitter over min(maxDelayMs, baseDelayMs * 2^attempt). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Time kept in hand for one more call before the function times out. */
  readonly reserveMs: number;
}

/** What the handler needs from outside; tests pass their own. */
export interface EdgePurgeDeps {
  readonly client: { send(command: CreateInvalidationCommand): Promise<{ Invalidation?: { Id?: string } }> };
  readonly settings: EdgePurgeSettings;
  readonly sleep: (ms: number) => Promise<void>;
  /** Random numbers in [0, 1) for the backoff jitter. */
  readonly random: () => number;
}

/** One CreateInvalidation call of a batch. */
export interface PlannedInvalidation {
  readonly paths: string[];
  /** Index of the first record whose change needs one of these paths. */
  readonly firstRecord: number;
  readonly callerReference: string;
}

export function edgePurgeSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): EdgePurgeSettings {
  const distributionId = env[EDGE_PURGE_ENV.distributionId];
  if (!distributionId) throw new Error(`${EDGE_PURGE_ENV.distributionId} is not set: the stack sets it to the distribution's id`);
  const templates = parseTemplateList(env[EDGE_PURGE_ENV.paths]);
  for (const t of templates) {
    if (!t.source.startsWith('/')) throw new Error(`${EDGE_PURGE_ENV.paths}: "${t.source}" must start with /`);
  }
  return {
    distributionId,
    templates,
    maxPathsPerInvalidation: CLOUDFRONT_LIMITS.pathsPerInvalidation,
    maxWildcardsPerInvalidation: CLOUDFRONT_LIMITS.wildcardPathsPerInvalidation,
    maxAttempts: 6,
    baseDelayMs: 500,
    maxDelayMs: 10_000,
    reserveMs: 5_000,
  };
}

/**
 * Viewer paths of one record: each template filled from the record's attributes, values
 * URL-encoded (a `*` in a value too, or CloudFront would read it as a wildcard). A template whose
 * parameter the record does not carry purges everything under its literal prefix instead
 * (`/items/{id}` becomes `/items/*`): too much rather than a stale page.
 */
export function recordPaths(record: DynamoDBRecord, templates: readonly Template[]): string[] {
  const paths: string[] = [];
  for (const template of templates) {
    if (!template.hasParams) continue;
    const filled = fillTemplate(template, record, encodePathValue);
    if (filled === undefined || filled.some((p) => p.length > CLOUDFRONT_LIMITS.maxPathLength)) {
      paths.push(literalPrefix(template) + '*');
    } else {
      paths.push(...filled);
    }
  }
  return paths;
}

function encodePathValue(value: string, greedy: boolean): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/\*/g, '%2A');
  return greedy ? value.split('/').map(encode).join('/') : encode(value);
}

/**
 * The invalidations a batch needs: its paths deduplicated, in the order of the first record
 * needing each (templates without parameters are needed by the first record), cut so that no
 * call exceeds CloudFront's path and wildcard limits. Each call's CallerReference is derived
 * from the batch (stream, sequence numbers) and its paths, so a retried batch sends the same
 * references and CloudFront returns the invalidation it already created instead of a new one.
 */
export function planInvalidations(records: readonly DynamoDBRecord[], settings: EdgePurgeSettings): PlannedInvalidation[] {
  if (records.length === 0) return [];
  const firstNeed = new Map<string, number>();
  const need = (path: string, index: number) => {
    if (!firstNeed.has(path)) firstNeed.set(path, index);
  };
  for (const t of settings.templates) if (!t.hasParams) need(t.source, 0);
  records.forEach((record, index) => {
    for (const path of recordPaths(record, settings.templates)) need(path, index);
  });

  const chunks: Array<{ paths: string[]; firstRecord: number; wildcards: number }> = [];
  for (const [path, index] of firstNeed) {
    const wildcard = path.endsWith('*');
    let chunk = chunks[chunks.length - 1];
    if (
      chunk === undefined ||
      chunk.paths.length >= settings.maxPathsPerInvalidation ||
      (wildcard && chunk.wildcards >= settings.maxWildcardsPerInvalidation)
    ) {
      chunk = { paths: [], firstRecord: index, wildcards: 0 };
      chunks.push(chunk);
    }
    chunk.paths.push(path);
    if (wildcard) chunk.wildcards++;
  }

  const batch = createHash('sha256');
  for (const record of records) batch.update(`${record.eventSourceARN ?? ''}|${record.dynamodb?.SequenceNumber ?? record.eventID ?? ''}\n`);
  const batchId = batch.digest();
  return chunks.map((chunk, index) => ({
    paths: chunk.paths,
    firstRecord: chunk.firstRecord,
    callerReference: `cca-${createHash('sha256').update(batchId).update(`${index}\n${chunk.paths.join('\n')}`).digest('base64url').slice(0, 40)}`,
  }));
}

/**
 * Worth another try: throttling, too many invalidations in progress, 5xx, and failures that got
 * no HTTP answer at all (connection reset, DNS, timeout). Other 4xx (access denied, no such
 * distribution, invalid path) would fail again.
 */
export function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | undefined;
  if (e?.name === 'TooManyInvalidationsInProgress' || e?.name === 'Throttling' || e?.name === 'ThrottlingException') return true;
  if (e?.$retryable !== undefined) return true;
  const status = e?.$metadata?.httpStatusCode;
  return status === undefined || status >= 500 || status === 429;
}

/**
 * The DynamoDB-stream handler: purges the viewer paths the batch's changes affect with as few
 * CreateInvalidation calls as CloudFront's limits allow, retrying throttling with exponential
 * backoff and full jitter. What could not be purged is reported as a partial batch failure
 * (the sequence number of the first record whose paths were not invalidated), so Lambda
 * retries from that record on.
 */
export function createEdgePurgeHandler(deps: () => EdgePurgeDeps): StreamPurgeHandler {
  return async (event, context) => {
    const { client, settings, sleep, random } = deps();
    const records = event.Records ?? [];
    const remaining = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;

    for (const plan of planInvalidations(records, settings)) {
      const command = new CreateInvalidationCommand({
        DistributionId: settings.distributionId,
        InvalidationBatch: { CallerReference: plan.callerReference, Paths: { Quantity: plan.paths.length, Items: plan.paths } },
      });
      for (let attempt = 1; ; attempt++) {
        try {
          const out = await client.send(command);
          log('INFO', 'Invalidation created', { invalidationId: out.Invalidation?.Id, paths: plan.paths.length, callerReference: plan.callerReference });
          break;
        } catch (error) {
          const retryable = isRetryable(error);
          const delay = Math.round(random() * Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1)));
          if (!retryable || attempt >= settings.maxAttempts || remaining() - delay < settings.reserveMs) {
            const failed = records[plan.firstRecord];
            log('ERROR', 'Invalidation failed; reporting the batch from the first record it covers', {
              error: describe(error),
              retryable,
              attempts: attempt,
              paths: plan.paths.length,
              sequenceNumber: failed?.dynamodb?.SequenceNumber,
            });
            return { batchItemFailures: [{ itemIdentifier: itemIdentifier(failed) }] };
          }
          log('WARN', 'Invalidation throttled or failed; retrying', { error: describe(error), attempt, delayMs: delay });
          await sleep(delay);
        }
      }
    }
    return { batchItemFailures: [] };
  };
}

function itemIdentifier(record: DynamoDBRecord | undefined): string {
  return record?.dynamodb?.SequenceNumber ?? '';
}

function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`;
}

function log(level: 'INFO' | 'WARN' | 'ERROR', message: string, detail: Record<string, unknown>): void {
  const line = JSON.stringify({ level, message, ...detail });
  if (level === 'ERROR') console.error(line);
  else if (level === 'WARN') console.warn(line);
  else console.log(line);
}

let defaults: EdgePurgeDeps | undefined;

/** Deps from the environment, built once per container (the client's connections are reused). */
export function edgePurgeDeps(): EdgePurgeDeps {
  return (defaults ??= {
    // Retries are ours (the SDK does not retry TooManyInvalidationsInProgress, and two retry
    // loops would multiply); a stuck connection must not eat the function's time.
    client: new CloudFrontClient({ maxAttempts: 1, requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 } }),
    settings: edgePurgeSettingsFromEnv(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
  });
}

export const handler: DynamoDBStreamHandler = createEdgePurgeHandler(edgePurgeDeps);
