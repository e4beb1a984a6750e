import Redis from 'iovalkey';
import { ITEM_LIST_GROUP, itemKey, itemListPageKey } from '../../lambda/catalog/cache-keys';
import { cacheAsideWithOutcome, getCacheClient, resetCacheClient } from '../../lambda/runtime/cache/from-env';
import { entryKeys, groupGenerationKey } from '../../lambda/runtime/cache/keys';
import { LatencySummary, measureInterleaved, ratio } from './stats';

export interface HitPathResult {
  readonly valueBytes: number;
  readonly rawGet: LatencySummary;
  readonly rawGetAndParse: LatencySummary;
  /** The grouped hit's request done raw: `MGET <entry> <generation>` of the kit's own keys, checked. */
  readonly rawGroupedMget: LatencySummary;
  /** `cacheAsideWithOutcome(itemKey(id), load)`, as GET /items/{id} calls it. */
  readonly cacheAsideHit: LatencySummary;
  /** `cacheAsideWithOutcome(itemListPageKey(...), load, { group })`, as GET /items calls it. */
  readonly groupedHit: LatencySummary;
  /** Each kit path against the raw GET (and against GET + JSON.parse), at p50 and p99. */
  readonly ratios: Record<'cacheAsideHit' | 'groupedHit', { p50: number; p99: number; p50VsGetAndParse: number; p99VsGetAndParse: number }>;
  /** The grouped hit against the same two-key MGET done raw (what reading the generation costs by itself). */
  readonly groupedVsRawGroupedMget: { p50: number; p99: number };
}

/** The environment a route function of the stack gets, pointed at a loopback redis-server. */
export function benchCacheEnv(host: string, port: number): Record<string, string> {
  return {
    DATA_CACHE_ENGINE: 'redis',
    DATA_CACHE_ENDPOINT: `${host}:${port}`,
    DATA_CACHE_TLS: 'false',
    DATA_CACHE_AUTH: 'none',
    DATA_CACHE_KEY_PREFIX: 'bench',
    DATA_CACHE_TTL_SECONDS: '3600',
    ...BENCH_TIMEOUTS,
  };
}

/**
 * Longer connect and command timeouts than the functions' defaults (200 and 100 ms): a busy shared
 * host can stall this process past them, and a timed-out read is a fail-open load, not a hit. The
 * hit path does the same work whatever the timeout (one deadline per command).
 */
export const BENCH_TIMEOUTS = { DATA_CACHE_CONNECT_TIMEOUT_MS: '5000', DATA_CACHE_COMMAND_TIMEOUT_MS: '5000' };

/**
 * Sequential hit latency of the calls the catalog handlers make - the container's CacheClient
 * from the DATA_CACHE_* environment, `cacheAsideWithOutcome` with the route's policy, the item
 * key and the grouped list key - against a raw iovalkey GET of a value of the same size (and a
 * raw GET + JSON.parse), interleaved per operation after a warm-up.
 */
export async function measureHitPath(host: string, port: number, ops = 20_000, warmUp = 3_000): Promise<HitPathResult> {
  const value = { id: 'item-1', body: 'x'.repeat(1000 - 30) };
  const raw = new Redis({ host, port });
  Object.assign(process.env, benchCacheEnv(host, port));
  await resetCacheClient();
  const load = async () => value;
  const item = itemKey('item-1');
  const page = itemListPageKey(20);
  const group = { group: ITEM_LIST_GROUP };
  // Fill both (the kit's entries, with their metadata header; the group generation created).
  await cacheAsideWithOutcome(item, load);
  await cacheAsideWithOutcome(page, load, group);
  await raw.set('bench-raw', JSON.stringify(value));
  const valueBytes = Buffer.byteLength((await raw.get('bench-raw')) ?? '');
  const pageStoreKey = entryKeys(process.env.DATA_CACHE_KEY_PREFIX as string, page, ITEM_LIST_GROUP).key;
  const generationStoreKey = groupGenerationKey(process.env.DATA_CACHE_KEY_PREFIX as string, ITEM_LIST_GROUP);
  const [storedPage, storedGeneration] = await raw.mget(pageStoreKey, generationStoreKey);
  if (storedPage === null || storedGeneration === null) throw new Error(`the kit's entry ${pageStoreKey} or its generation is not in redis`);
  const hitsBefore = getCacheClient().stats().hits;

  const samples = await measureInterleaved(
    {
      rawGet: () => raw.get('bench-raw'),
      rawGetAndParse: async () => JSON.parse((await raw.get('bench-raw')) as string) as unknown,
      // Not a path of the target: it shows what the grouped hit's second key costs by itself.
      rawGroupedMget: async () => {
        const [entry, generation] = await raw.mget(pageStoreKey, generationStoreKey);
        if (entry?.length !== storedPage.length || generation !== storedGeneration) throw new Error('raw MGET missed');
      },
      cacheAsideHit: () => cacheAsideWithOutcome(item, load),
      groupedHit: () => cacheAsideWithOutcome(page, load, group),
    },
    ops,
    warmUp,
  );
  // Every measured kit call was a hit (a miss would time the origin, not the cache).
  if (getCacheClient().stats().hits - hitsBefore < 2 * (ops + warmUp)) throw new Error('a kit path did not hit');
  raw.disconnect();
  await resetCacheClient();
  const ratiosOf = (kit: LatencySummary) => ({
    p50: ratio(kit.p50Us, samples.rawGet.p50Us),
    p99: ratio(kit.p99Us, samples.rawGet.p99Us),
    p50VsGetAndParse: ratio(kit.p50Us, samples.rawGetAndParse.p50Us),
    p99VsGetAndParse: ratio(kit.p99Us, samples.rawGetAndParse.p99Us),
  });
  return {
    valueBytes,
    ...samples,
    ratios: { cacheAsideHit: ratiosOf(samples.cacheAsideHit), groupedHit: ratiosOf(samples.groupedHit) },
    groupedVsRawGroupedMget: { p50: ratio(samples.groupedHit.p50Us, samples.rawGroupedMget.p50Us), p99: ratio(samples.groupedHit.p99Us, samples.rawGroupedMget.p99Us) },
  };
}
