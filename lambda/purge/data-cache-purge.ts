import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  type CacheClient,
  DATA_CACHE_COMMAND_TIMEOUT_MS,
  DATA_CACHE_CONNECT_TIMEOUT_MS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  getCacheClient,
} from '../runtime/cache';
import { edgePathBodies, QueueSender, sendBodies } from './edge-queue';
import { batchPaths } from './paths';
import { fillTemplate, parseTemplateList, recordProblem, Template } from './templates';

/**
 * Environment of the data-cache purge (lib/sync/cache-sync.ts writes the same names), besides the
 * `DATA_CACHE_*` connection variables and the `DATA_CACHE_KEY_PREFIX` the route functions use.
 * `DATA_PURGE_KEYS`: comma-separated key templates deleted per record, e.g. `item:{id}`.
 * `DATA_PURGE_GROUPS`: comma-separated group templates whose generation is bumped, e.g. `items`.
 * `DATA_PURGE_RETRY_QUEUE_URL`: where work that failed is retried from (this function reads it).
 * `EDGE_PURGE_PATHS` / `EDGE_PURGE_QUEUE_URL`: the edge paths of the purged changes, forwarded
 * to the edge purge only once the data cache no longer holds the old values.
 */
export const DATA_PURGE_ENV = {
  keys: 'DATA_PURGE_KEYS',
  groups: 'DATA_PURGE_GROUPS',
  retryQueueUrl: 'DATA_PURGE_RETRY_QUEUE_URL',
  edgePaths: 'EDGE_PURGE_PATHS',
  edgeQueueUrl: 'EDGE_PURGE_QUEUE_URL',
} as const;

/**
 * SQS client timeouts, set explicitly: the time reserve covers one whole attempt. Without
 * `throwOnRequestTimeout` the SDK's HTTP handler only logs a warning when `requestTimeout` passes.
 */
export const DATA_PURGE_TIMEOUTS = { sqs: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true }, marginMs: 1000 } as const;
/**
 * Time kept before the function times out: one whole SQS attempt (forward or hand-off), one cache
 * round (the runtime's connect + command timeouts, from the same variables it reads) and a margin.
 */
export function dataPurgeReserveMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return (
    DATA_PURGE_TIMEOUTS.sqs.connectionTimeout +
    DATA_PURGE_TIMEOUTS.sqs.requestTimeout +
    ms(DATA_CACHE_CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS) +
    ms(DATA_CACHE_COMMAND_TIMEOUT_MS, DEFAULT_COMMAND_TIMEOUT_MS) +
    DATA_PURGE_TIMEOUTS.marginMs
  );
}
/** The reserve with the runtime's default cache timeouts. */
export const DATA_PURGE_RESERVE_MS = dataPurgeReserveMs({});

export interface DataPurgeSettings {
  readonly keys: readonly Template[];
  readonly groups: readonly Template[];
  readonly edgePaths: readonly Template[];
  readonly edgeQueueUrl?: string;
  readonly retryQueueUrl?: string;
  /** Tries per key or group before the work is handed to the retry queue (or reported failed). */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** Invalidations sent at once; the time budget is checked between rounds. */
  readonly concurrency: number;
  /** Time kept for the forward and hand-off calls before the function times out. */
  readonly reserveMs: number;
}

export interface DataPurgeDeps {
  /** The runtime's invalidation API: both resolve to false when the cache could not be reached. */
  readonly cache: Pick<CacheClient, 'invalidate' | 'invalidateGroup'>;
  readonly settings: DataPurgeSettings;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly sqs?: QueueSender;
}

export function dataPurgeSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DataPurgeSettings {
  const keys = parseTemplateList(env[DATA_PURGE_ENV.keys]);
  const groups = parseTemplateList(env[DATA_PURGE_ENV.groups]);
  if (keys.length + groups.length === 0) {
    throw new Error(`${DATA_PURGE_ENV.keys} or ${DATA_PURGE_ENV.groups} must name what to invalidate`);
  }
  return {
    keys,
    groups,
    edgePaths: parseTemplateList(env[DATA_PURGE_ENV.edgePaths]),
    edgeQueueUrl: env[DATA_PURGE_ENV.edgeQueueUrl] || undefined,
    retryQueueUrl: env[DATA_PURGE_ENV.retryQueueUrl] || undefined,
    maxAttempts: 3,
    baseDelayMs: 100,
    concurrency: 500,
    reserveMs: dataPurgeReserveMs(env),
  };
}

/** One invalidation the batch needs, and the first input that needs it. */
export interface Operation {
  readonly kind: 'key' | 'group';
  readonly name: string;
  readonly firstRecord: number;
}

/**
 * A self-contained unit of data-purge work (retry queue and failure queue messages): the keys and
 * groups to invalidate, and the edge paths to forward once they are.
 */
export interface DataPurgeMessage {
  readonly kind: 'data-purge';
  readonly keys: string[];
  readonly groups: string[];
  readonly edgePaths: string[];
}

/**
 * The invalidations a batch needs, deduplicated: each key template filled per record (deleted,
 * which also revokes a fill in flight), each group once (its generation bumped). A key template
 * whose attribute the record lacks is skipped: nothing can have been cached under a key the item
 * never had. (Records `recordProblem` refuses never get here.)
 */
export function planDataPurge(records: readonly DynamoDBRecord[], settings: Pick<DataPurgeSettings, 'keys' | 'groups'>): Operation[] {
  const seen = new Map<string, Operation>();
  const add = (kind: Operation['kind'], name: string, firstRecord: number) => {
    const id = `${kind}\n${name}`;
    if (!seen.has(id)) seen.set(id, { kind, name, firstRecord });
  };
  records.forEach((record, index) => {
    for (const [kind, templates] of [['group', settings.groups], ['key', settings.keys]] as const) {
      for (const template of templates) for (const name of fillTemplate(template, record) ?? []) add(kind, name, index);
    }
  });
  return [...seen.values()];
}

/**
 * Runs the operations in order of the first input needing them, `concurrency` at a time, each
 * retried briefly; stops before the time reserve. Returns the operations not done.
 */
async function runOperations(ops: Operation[], deps: DataPurgeDeps, remaining: () => number): Promise<Operation[]> {
  const { cache, settings, sleep, random } = deps;
  const ordered = [...ops].sort((a, b) => a.firstRecord - b.firstRecord);
  for (let start = 0; start < ordered.length; start += settings.concurrency) {
    if (remaining() < settings.reserveMs) return ordered.slice(start);
    let round = ordered.slice(start, start + settings.concurrency);
    for (let attempt = 1; round.length > 0; attempt++) {
      const done = await Promise.all(round.map((op) => (op.kind === 'key' ? cache.invalidate(op.name) : cache.invalidateGroup(op.name))));
      round = round.filter((_op, i) => !done[i]);
      const delay = Math.round(random() * settings.baseDelayMs * 4 ** (attempt - 1));
      if (round.length === 0) break;
      if (attempt >= settings.maxAttempts || remaining() - delay < settings.reserveMs) {
        return [...round, ...ordered.slice(start + settings.concurrency)];
      }
      await sleep(delay);
    }
  }
  return [];
}

type PurgeResponse = DynamoDBBatchResponse | SQSBatchResponse;
export type DataPurgeHandler = (event: DynamoDBStreamEvent | SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<PurgeResponse>;

/**
 * The in-VPC purge that keeps the data cache true for every writer. From the table's stream: it
 * deletes the keys and bumps the groups of the batch's changes, pipelined, `concurrency` at a time
 * within the time budget; then forwards the edge paths of the records it purged to the edge purge
 * (so CloudFront never refills from a data cache that still holds the old value). Work that
 * failed against the cache goes to the retry queue as a self-contained message (this function
 * reads it; after five tries it lands on the failure queue, keys and paths included, for
 * `npm run redrive`). A malformed record, or one whose template attribute has an unusable type,
 * is a batch item failure, as is what the time budget left undone (Lambda resumes from there).
 */
export function createDataCachePurgeHandler(deps: () => DataPurgeDeps): DataPurgeHandler {
  return async (event, context) => {
    const d = deps();
    const remaining = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
    const records = event.Records ?? [];
    if (records.length > 0 && (records[0] as SQSRecord).eventSource === 'aws:sqs') return purgeMessages(records as SQSRecord[], d, remaining);
    return purgeStream(records as DynamoDBRecord[], d, remaining);
  };
}

async function purgeStream(all: DynamoDBRecord[], deps: DataPurgeDeps, remaining: () => number): Promise<DynamoDBBatchResponse> {
  const { settings } = deps;
  const templates = [...settings.keys, ...settings.groups, ...settings.edgePaths];
  const bad = all.findIndex((r) => recordProblem(r, templates) !== undefined);
  if (bad >= 0) log('ERROR', 'Record cannot be purged; reported as a batch item failure', { problem: recordProblem(all[bad], templates), sequenceNumber: all[bad]?.dynamodb?.SequenceNumber });
  const records = bad >= 0 ? all.slice(0, bad) : all;

  const pending = await runOperations(planDataPurge(records, settings), deps, remaining);
  const timedOut = pending.length > 0 && remaining() < settings.reserveMs;
  let stopAt = bad >= 0 ? bad : all.length;
  if (pending.length > 0) {
    const first = Math.min(...pending.map((op) => op.firstRecord));
    const handedOff =
      !timedOut &&
      (await handToRetryQueue(deps, {
        kind: 'data-purge',
        keys: pending.filter((op) => op.kind === 'key').map((op) => op.name),
        groups: pending.filter((op) => op.kind === 'group').map((op) => op.name),
        edgePaths: [...batchPaths(records.slice(first), settings.edgePaths).keys()],
      }));
    // Handed off: the retry forwards those edge paths itself; the stream moves on.
    if (!handedOff) stopAt = Math.min(stopAt, first);
  }
  const purged = records.slice(0, pending.length > 0 ? Math.min(...pending.map((op) => op.firstRecord)) : records.length);
  if (!(await forwardEdgePaths(deps, [...batchPaths(purged, settings.edgePaths).keys()]))) stopAt = 0;
  if (stopAt >= all.length) return { batchItemFailures: [] };
  log(timedOut ? 'WARN' : 'ERROR', 'Reporting the batch from the first record not purged', { sequenceNumber: all[stopAt]?.dynamodb?.SequenceNumber, timedOut, pendingCount: pending.length });
  return { batchItemFailures: [{ itemIdentifier: all[stopAt]?.dynamodb?.SequenceNumber ?? '' }] };
}

async function purgeMessages(messages: SQSRecord[], deps: DataPurgeDeps, remaining: () => number): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  for (const message of messages) {
    const work = parseDataPurgeBody(message.body);
    if (!work) {
      log('ERROR', 'Not a data-purge message; reported as a failure', { messageId: message.messageId });
      failures.push(message.messageId);
      continue;
    }
    const ops: Operation[] = [...work.groups.map((name) => ({ kind: 'group' as const, name, firstRecord: 0 })), ...work.keys.map((name) => ({ kind: 'key' as const, name, firstRecord: 0 }))];
    const pending = remaining() < deps.settings.reserveMs ? ops : await runOperations(ops, deps, remaining);
    if (pending.length > 0 || !(await forwardEdgePaths(deps, work.edgePaths))) failures.push(message.messageId);
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

export function parseDataPurgeBody(body: string): DataPurgeMessage | undefined {
  try {
    const m = JSON.parse(body) as Partial<DataPurgeMessage>;
    const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
    if (m?.kind !== 'data-purge' || !strings(m.keys) || !strings(m.groups) || !strings(m.edgePaths)) return undefined;
    return m as DataPurgeMessage;
  } catch {
    return undefined;
  }
}

async function handToRetryQueue(deps: DataPurgeDeps, message: DataPurgeMessage): Promise<boolean> {
  if (!deps.settings.retryQueueUrl || !deps.sqs) return false;
  try {
    await sendBodies(deps.sqs, deps.settings.retryQueueUrl, [JSON.stringify(message)], 10);
    log('WARN', 'Data cache unreachable; work handed to the retry queue', { keys: message.keys.length, groups: message.groups.length });
    return true;
  } catch (error) {
    log('ERROR', 'Retry queue unreachable', { error: String(error) });
    return false;
  }
}

/** Sends the purged changes' edge paths to the edge purge; false when that failed. */
async function forwardEdgePaths(deps: DataPurgeDeps, paths: string[]): Promise<boolean> {
  if (paths.length === 0 || !deps.settings.edgeQueueUrl || !deps.sqs) return true;
  try {
    await sendBodies(deps.sqs, deps.settings.edgeQueueUrl, edgePathBodies(paths));
    return true;
  } catch (error) {
    log('ERROR', 'Edge purge queue unreachable; the records are reported for a retry', { error: String(error), paths: paths.length });
    return false;
  }
}

function log(level: 'WARN' | 'ERROR', message: string, detail: Record<string, unknown>): void {
  const line = JSON.stringify({ level, message, ...detail });
  if (level === 'ERROR') console.error(line);
  else console.warn(line);
}

let defaults: DataPurgeDeps | undefined;

/** Deps from the environment, once per container: the CacheClient keeps its connection across invocations. */
export function dataPurgeDeps(): DataPurgeDeps {
  return (defaults ??= {
    cache: getCacheClient(),
    settings: dataPurgeSettingsFromEnv(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    sqs: new SQSClient({ maxAttempts: 1, requestHandler: { ...DATA_PURGE_TIMEOUTS.sqs } }),
  });
}

export const handler: DataPurgeHandler = createDataCachePurgeHandler(dataPurgeDeps);
