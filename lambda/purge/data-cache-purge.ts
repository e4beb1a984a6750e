import type { DynamoDBRecord, DynamoDBStreamHandler } from 'aws-lambda';
import { type CacheClient, getCacheClient } from '../runtime/cache';
import { fillTemplate, parseTemplateList, StreamPurgeHandler, Template } from './templates';

/**
 * Environment of the data-cache purge (lib/sync/cache-sync.ts writes the same names), besides the
 * `DATA_CACHE_*` connection variables and the `DATA_CACHE_KEY_PREFIX` the route functions use.
 * `DATA_PURGE_KEYS`: comma-separated key templates deleted per record, e.g. `item:{id}`.
 * `DATA_PURGE_GROUPS`: comma-separated group templates whose generation is bumped, e.g. `items`.
 */
export const DATA_PURGE_ENV = {
  keys: 'DATA_PURGE_KEYS',
  groups: 'DATA_PURGE_GROUPS',
} as const;

export interface DataPurgeSettings {
  readonly keys: readonly Template[];
  readonly groups: readonly Template[];
  /** Tries per key or group before the record is reported as failed. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
}

export interface DataPurgeDeps {
  /** The runtime's invalidation API: both resolve to false when the cache could not be reached. */
  readonly cache: Pick<CacheClient, 'invalidate' | 'invalidateGroup'>;
  readonly settings: DataPurgeSettings;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

export function dataPurgeSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DataPurgeSettings {
  const keys = parseTemplateList(env[DATA_PURGE_ENV.keys]);
  const groups = parseTemplateList(env[DATA_PURGE_ENV.groups]);
  if (keys.length + groups.length === 0) {
    throw new Error(`${DATA_PURGE_ENV.keys} or ${DATA_PURGE_ENV.groups} must name what to invalidate`);
  }
  return { keys, groups, maxAttempts: 3, baseDelayMs: 100 };
}

/** One invalidation the batch needs, and the first record that needs it. */
interface Operation {
  readonly kind: 'key' | 'group';
  readonly name: string;
  readonly firstRecord: number;
}

/**
 * The invalidations a batch needs, deduplicated: each key template filled per record (deleted,
 * which also revokes a fill in flight), each group once (its generation bumped). A key template
 * whose attribute the record lacks is skipped with a warning: nothing can have been cached under
 * a key the item never had.
 */
export function planDataPurge(records: readonly DynamoDBRecord[], settings: DataPurgeSettings): Operation[] {
  const seen = new Map<string, Operation>();
  const add = (kind: Operation['kind'], name: string, firstRecord: number) => {
    const id = `${kind}\n${name}`;
    if (!seen.has(id)) seen.set(id, { kind, name, firstRecord });
  };
  records.forEach((record, index) => {
    for (const [kind, templates] of [['group', settings.groups], ['key', settings.keys]] as const) {
      for (const template of templates) {
        const names = fillTemplate(template, record);
        if (names === undefined) {
          console.warn(JSON.stringify({ level: 'WARN', message: 'Record lacks an attribute of the template', template: template.source, kind, sequenceNumber: record.dynamodb?.SequenceNumber }));
          continue;
        }
        for (const name of names) add(kind, name, index);
      }
    }
  });
  return [...seen.values()];
}

/**
 * The in-VPC DynamoDB-stream handler that keeps the data cache true for every writer: deletes
 * the keys and bumps the groups the batch's changes affect, all at once (one connection,
 * pipelined), retrying briefly. Whatever still failed is reported as a partial batch failure from
 * the first record that needed it; Lambda retries from there.
 */
export function createDataCachePurgeHandler(deps: () => DataPurgeDeps): StreamPurgeHandler {
  return async (event) => {
    const { cache, settings, sleep, random } = deps();
    const records = event.Records ?? [];
    let pending = planDataPurge(records, settings);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const done = await Promise.all(
        pending.map((op) => (op.kind === 'key' ? cache.invalidate(op.name) : cache.invalidateGroup(op.name))),
      );
      pending = pending.filter((_op, i) => !done[i]);
      if (pending.length === 0 || attempt >= settings.maxAttempts) break;
      await sleep(Math.round(random() * settings.baseDelayMs * 4 ** (attempt - 1)));
    }
    if (pending.length === 0) return { batchItemFailures: [] };
    const first = Math.min(...pending.map((op) => op.firstRecord));
    const sequenceNumber = records[first]?.dynamodb?.SequenceNumber ?? '';
    console.error(
      JSON.stringify({
        level: 'ERROR',
        message: 'Data cache unreachable; reporting the batch from the first record not purged',
        failed: pending.slice(0, 20).map((op) => `${op.kind}:${op.name}`),
        failedCount: pending.length,
        sequenceNumber,
      }),
    );
    return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
  };
}

let defaults: DataPurgeDeps | undefined;

/** Deps from the environment, once per container: the CacheClient keeps its connection across invocations. */
export function dataPurgeDeps(): DataPurgeDeps {
  return (defaults ??= {
    cache: getCacheClient(),
    settings: dataPurgeSettingsFromEnv(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
  });
}

export const handler: DynamoDBStreamHandler = createDataCachePurgeHandler(dataPurgeDeps);
