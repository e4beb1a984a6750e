import { createHash } from 'node:crypto';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { edgePathBodies, parseEdgePathBody, QueueSender, sendBodies } from './edge-queue';
import { NeededPath } from './invalidation-planner';
import { CloudFrontCalls, CLOUDFRONT_QUOTAS, log, RunnerSettings, runInvalidations } from './invalidation-runner';
import { batchPaths, CLOUDFRONT_PATH_LIMITS } from './paths';
import { parseTemplateList, Template } from './templates';

export { isRetryable } from './invalidation-runner';
export { recordPaths } from './paths';

/**
 * Environment of the edge purge (lib/sync/cache-sync.ts writes the same names).
 * `EDGE_PURGE_PATHS`: comma-separated viewer path templates, e.g. `/items/{id},/items,/items?*`.
 * `EDGE_PURGE_QUEUE_URL`: the request queue, where quota pressure hands paths off to.
 * `EDGE_PURGE_MAX_FILE_PATHS`: most file paths per invalidation (0 to 3000; default 3000).
 */
export const EDGE_PURGE_ENV = {
  distributionId: 'DISTRIBUTION_ID',
  paths: 'EDGE_PURGE_PATHS',
  queueUrl: 'EDGE_PURGE_QUEUE_URL',
  maxFilePaths: 'EDGE_PURGE_MAX_FILE_PATHS',
} as const;

/** CloudFront's limits: the in-progress quotas and the path length. */
export const CLOUDFRONT_LIMITS = { ...CLOUDFRONT_QUOTAS, ...CLOUDFRONT_PATH_LIMITS } as const;

/**
 * Timeouts of the SDK clients, set explicitly: the time reserve is derived from them, so that a
 * request started just before the reserve can finish (or time out) and the hand-off still fits.
 * Without `throwOnRequestTimeout` the SDK's HTTP handler only logs a warning when `requestTimeout` passes.
 */
export const EDGE_PURGE_TIMEOUTS = {
  cloudFront: { connectionTimeout: 3000, requestTimeout: 10_000, throwOnRequestTimeout: true },
  sqs: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  /** Margin for the handler's own work and the response. */
  marginMs: 1000,
} as const;

/** One whole CloudFront attempt, one whole SQS attempt and the margin. */
export const EDGE_PURGE_RESERVE_MS =
  EDGE_PURGE_TIMEOUTS.cloudFront.connectionTimeout +
  EDGE_PURGE_TIMEOUTS.cloudFront.requestTimeout +
  EDGE_PURGE_TIMEOUTS.sqs.connectionTimeout +
  EDGE_PURGE_TIMEOUTS.sqs.requestTimeout +
  EDGE_PURGE_TIMEOUTS.marginMs;

export interface EdgePurgeSettings extends RunnerSettings {
  readonly templates: readonly Template[];
  /** The request queue quota pressure hands paths off to; none: what cannot go out fails the batch. */
  readonly queueUrl?: string;
  /** Delay of handed-off paths, so that invalidations in progress can complete meanwhile. */
  readonly handOffDelaySeconds: number;
}

/** What the handler needs from outside; tests pass their own. */
export interface EdgePurgeDeps {
  readonly client: CloudFrontCalls;
  readonly sqs?: QueueSender;
  readonly settings: EdgePurgeSettings;
  readonly sleep: (ms: number) => Promise<void>;
  /** Random numbers in [0, 1) for the backoff jitter. */
  readonly random: () => number;
}

export function edgePurgeSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): EdgePurgeSettings {
  const distributionId = env[EDGE_PURGE_ENV.distributionId];
  if (!distributionId) throw new Error(`${EDGE_PURGE_ENV.distributionId} is not set: the stack sets it to the distribution's id`);
  const templates = parseTemplateList(env[EDGE_PURGE_ENV.paths]);
  for (const t of templates) {
    if (!t.source.startsWith('/')) throw new Error(`${EDGE_PURGE_ENV.paths}: "${t.source}" must start with /`);
  }
  const maxFilePaths = Number(env[EDGE_PURGE_ENV.maxFilePaths] ?? CLOUDFRONT_QUOTAS.filePathsInProgress);
  if (!Number.isInteger(maxFilePaths) || maxFilePaths < 0 || maxFilePaths > CLOUDFRONT_QUOTAS.filePathsInProgress) {
    throw new Error(`${EDGE_PURGE_ENV.maxFilePaths} must be an integer from 0 to ${CLOUDFRONT_QUOTAS.filePathsInProgress}, got "${env[EDGE_PURGE_ENV.maxFilePaths]}"`);
  }
  return {
    distributionId,
    templates,
    maxFilePathsPerInvalidation: maxFilePaths,
    queueUrl: env[EDGE_PURGE_ENV.queueUrl] || undefined,
    quotas: CLOUDFRONT_QUOTAS,
    maxAttempts: 6,
    baseDelayMs: 500,
    maxDelayMs: 10_000,
    reserveMs: EDGE_PURGE_RESERVE_MS,
    pollMs: 5000,
    maxWaitMs: 30_000,
    handOffDelaySeconds: 30,
  };
}

type EdgePurgeEvent = DynamoDBStreamEvent | SQSEvent;
type EdgePurgeResponse = DynamoDBBatchResponse | SQSBatchResponse;
/** The handler (assignable to a DynamoDB-stream or an SQS handler). */
export type EdgePurgeHandler = (event: EdgePurgeEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<EdgePurgeResponse>;

function isSqsRecord(record: DynamoDBRecord | SQSRecord): record is SQSRecord {
  return (record as SQSRecord).eventSource === 'aws:sqs';
}

/**
 * The edge purge: invalidates the viewer paths of a DynamoDB-stream batch (when no data cache is
 * kept in sync) or of the request queue's messages (sent by the data purge once the data cache no
 * longer holds the old values, or handed off earlier), within CloudFront's in-progress quotas
 * (see `runInvalidations`). Failures are reported per input: the sequence number of the first
 * stream record not purged, or every message from the first one not purged.
 */
export function createEdgePurgeHandler(deps: () => EdgePurgeDeps): EdgePurgeHandler {
  return async (event, context) => {
    const { client, sqs, settings, sleep, random } = deps();
    const records: Array<DynamoDBRecord | SQSRecord> = event.Records ?? [];
    const remaining = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
    const fromQueue = records.length > 0 && isSqsRecord(records[0]);

    const needed: NeededPath[] = [];
    const malformed: string[] = [];
    if (fromQueue) {
      const first = new Map<string, number>();
      (records as SQSRecord[]).forEach((message, index) => {
        const paths = parseEdgePathBody(message.body);
        if (paths === undefined) malformed.push(message.messageId);
        for (const path of paths ?? []) if (!first.has(path)) first.set(path, index);
      });
      for (const [path, firstNeed] of first) needed.push({ path, firstNeed });
      if (malformed.length > 0) log('ERROR', 'Messages that are not edge-paths messages; reported as failures', { messageIds: malformed.slice(0, 20) });
    } else {
      for (const [path, firstNeed] of batchPaths(records as DynamoDBRecord[], settings.templates)) needed.push({ path, firstNeed });
    }

    const handOff =
      settings.queueUrl && sqs ? (paths: string[]) => sendBodies(sqs, settings.queueUrl!, edgePathBodies(paths), settings.handOffDelaySeconds) : undefined;
    const result = await runInvalidations(needed, batchIdentity(records), { client, settings, sleep, random, remaining, handOff });

    if (fromQueue) {
      const failed = new Set(malformed);
      if (result.failedFrom !== undefined) for (const m of (records as SQSRecord[]).slice(result.failedFrom)) failed.add(m.messageId);
      return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
    }
    if (result.failedFrom === undefined) return { batchItemFailures: [] };
    return { batchItemFailures: [{ itemIdentifier: (records[result.failedFrom] as DynamoDBRecord)?.dynamodb?.SequenceNumber ?? '' }] };
  };
}

/** Stream position or message ids: a retried batch derives the same CallerReferences. */
function batchIdentity(records: ReadonlyArray<DynamoDBRecord | SQSRecord>): string {
  const hash = createHash('sha256');
  for (const r of records) {
    if (isSqsRecord(r)) hash.update(`${r.messageId}\n`);
    else hash.update(`${r.eventSourceARN ?? ''}|${r.dynamodb?.SequenceNumber ?? r.eventID ?? ''}\n`);
  }
  return hash.digest('base64url');
}

let defaults: EdgePurgeDeps | undefined;

/** Deps from the environment, built once per container (the clients' connections are reused). */
export function edgePurgeDeps(): EdgePurgeDeps {
  return (defaults ??= {
    // Retries are ours (the SDK does not retry TooManyInvalidationsInProgress, and two retry
    // loops would multiply); the timeouts bound one attempt, which the reserve covers.
    client: new CloudFrontClient({ maxAttempts: 1, requestHandler: { ...EDGE_PURGE_TIMEOUTS.cloudFront } }),
    sqs: new SQSClient({ maxAttempts: 1, requestHandler: { ...EDGE_PURGE_TIMEOUTS.sqs } }),
    settings: edgePurgeSettingsFromEnv(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
  });
}

export const handler: EdgePurgeHandler = createEdgePurgeHandler(edgePurgeDeps);
