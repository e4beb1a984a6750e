import { CacheClient } from '../runtime/cache/cache-aside';
import { DEFAULT_KEY_PREFIX } from '../runtime/cache/env';
import { createCacheClient, readDataCacheSettings } from '../runtime/cache/from-env';
import { MemoryStore } from '../runtime/cache/memory-store';
import { DynamoDbStore } from '../runtime/cache/dynamodb-store';
import { MemoryCounter, UsageCounter } from './budget';
import { ChatDeps } from './chat';
import {
  AI_CACHE_TTL_SECONDS,
  AI_TABLE,
  AI_UPSTREAM_TIMEOUT_MS,
  readBudgets,
  readCacheStore,
  readModelTable,
  readNumber,
} from './config';

/** Longest wait for one upstream answer unless AI_UPSTREAM_TIMEOUT_MS says otherwise. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;
/** Lifetime of a cached answer unless AI_CACHE_TTL_SECONDS says otherwise. */
export const DEFAULT_AI_CACHE_TTL_SECONDS = 3600;

const built = new WeakMap<NodeJS.ProcessEnv, ChatDeps>();
const dynamoStores = new Map<string, DynamoDbStore>();

function dynamoStore(tableName: string): DynamoDbStore {
  let store = dynamoStores.get(tableName);
  if (store === undefined) dynamoStores.set(tableName, (store = new DynamoDbStore({ tableName })));
  return store;
}

/**
 * What the chat handler needs, built once per environment (per container in Lambda; per route
 * in the dev server). Callers waiting on another container's fill wait up to the upstream
 * timeout (a model answer takes seconds, not the milliseconds of a data read).
 */
export function chatDeps(env: NodeJS.ProcessEnv): ChatDeps {
  let deps = built.get(env);
  if (deps !== undefined) return deps;
  const upstreamTimeoutMs = readNumber(env, AI_UPSTREAM_TIMEOUT_MS, DEFAULT_UPSTREAM_TIMEOUT_MS);
  const cacheTtlSeconds = readNumber(env, AI_CACHE_TTL_SECONDS, DEFAULT_AI_CACHE_TTL_SECONDS);
  const table = env[AI_TABLE];
  const lease = { leaseTtlMs: upstreamTimeoutMs + 5_000, leaseWaitMs: upstreamTimeoutMs, ttlSeconds: cacheTtlSeconds };
  const keyPrefix = env.DATA_CACHE_KEY_PREFIX || DEFAULT_KEY_PREFIX;
  let cache: CacheClient | undefined;
  switch (readCacheStore(env)) {
    case 'dynamodb':
      if (!table) throw new Error(`AI_CACHE_STORE=dynamodb needs ${AI_TABLE}`);
      cache = new CacheClient({ ...lease, keyPrefix, store: dynamoStore(table), maxValueBytes: 390 * 1024 });
      break;
    case 'data-cache':
      cache = createCacheClient(readDataCacheSettings(env), { ...lease, keyPrefix });
      break;
    case 'memory':
      cache = new CacheClient({ ...lease, keyPrefix, store: new MemoryStore(), maxValueBytes: 1024 * 1024 });
      break;
    case 'none':
      break;
  }
  const counter: UsageCounter = table ? dynamoStore(table) : new MemoryCounter();
  deps = { models: readModelTable(env), cache, cacheTtlSeconds, counter, budgets: readBudgets(env), upstreamTimeoutMs, env };
  built.set(env, deps);
  return deps;
}
