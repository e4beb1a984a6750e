import { ITEM_LIST_GROUP, itemKey, itemListPageKey } from '../../lambda/catalog/cache-keys';
import { createCacheClient, readCachePolicy, readDataCacheSettings, routeCallOptions } from '../../lambda/runtime/cache/from-env';
import { entryKeys, groupGenerationKey } from '../../lambda/runtime/cache/keys';
import { MemcachedConnection } from '../../lambda/runtime/cache/memcached-client';
import { BENCH_TIMEOUTS } from './hit-path';
import { LatencySummary, measureInterleaved, ratio } from './stats';

export interface MemcachedHitPathResult {
  /** Bytes of the item entry every raw path reads (the kit's own entry: same key, same value). */
  readonly valueBytes: number;
  readonly rawGets: LatencySummary;
  readonly rawGetsAndParse: LatencySummary;
  /** The grouped hit's request done raw: `gets <entry> <generation>` in one round trip. */
  readonly rawGroupedGets: LatencySummary;
  readonly cacheAsideHit: LatencySummary;
  readonly groupedHit: LatencySummary;
  readonly ratios: Record<'cacheAsideHit' | 'groupedHit', { p50: number; p99: number; p50VsGetAndParse: number; p99VsGetAndParse: number }>;
  /** The grouped hit against the same two-key `gets` done raw. */
  readonly groupedVsRawGroupedGets: { p50: number; p99: number };
}

/**
 * Same comparison on memcached: the CacheClient a memcached function builds from its environment,
 * called as `cacheAsideWithOutcome` calls it (`getWithOutcome` with `routeCallOptions`), for the
 * item key and the grouped list key, against the bare client's `gets` (interleaved per op).
 *
 * The raw paths read the kit's own stored entries - the same keys, the same bytes - on a
 * connection of their own that stays open, as the kit's does; each raw read is checked to have
 * returned the whole entry, so a raw path can never be timing a miss or an empty reply.
 */
export async function measureMemcachedHitPath(host: string, port: number, ops = 20_000, warmUp = 3_000): Promise<MemcachedHitPathResult> {
  const value = { id: 'item-1', body: 'x'.repeat(1000 - 30) };
  const env = { DATA_CACHE_ENGINE: 'memcached', DATA_CACHE_ENDPOINT: `${host}:${port}`, DATA_CACHE_TLS: 'false', DATA_CACHE_KEY_PREFIX: 'bench', DATA_CACHE_TTL_SECONDS: '3600', ...BENCH_TIMEOUTS };
  const raw = await MemcachedConnection.connect({ host, port });
  const cache = createCacheClient(readDataCacheSettings(env));
  const policy = readCachePolicy(env);
  const load = async () => value;
  const item = itemKey('item-1');
  const page = itemListPageKey(20);
  await cache.getWithOutcome(item, load, policy);
  await cache.getWithOutcome(page, load, { ...policy, group: ITEM_LIST_GROUP });
  const itemStoreKey = entryKeys(env.DATA_CACHE_KEY_PREFIX, item).key;
  const pageStoreKey = entryKeys(env.DATA_CACHE_KEY_PREFIX, page, ITEM_LIST_GROUP).key;
  const generationStoreKey = groupGenerationKey(env.DATA_CACHE_KEY_PREFIX, ITEM_LIST_GROUP);
  const stored = (await raw.gets([itemStoreKey])).get(itemStoreKey)?.value;
  if (stored === undefined) throw new Error(`the kit's entry ${itemStoreKey} is not in memcached`);
  const storedPage = (await raw.gets([pageStoreKey, generationStoreKey])).get(pageStoreKey)?.value;
  if (storedPage === undefined) throw new Error(`the kit's entry ${pageStoreKey} is not in memcached`);

  /** The raw read, checked: the whole entry came back (a cheap length test, done on every path alike). */
  const rawEntry = async (): Promise<string> => {
    const text = (await raw.gets([itemStoreKey])).get(itemStoreKey)?.value;
    if (text?.length !== stored.length) throw new Error(`raw gets of ${itemStoreKey} returned ${text?.length ?? 'nothing'}, not ${stored.length} chars`);
    return text;
  };
  const hitsBefore = cache.stats().hits;
  const samples = await measureInterleaved(
    {
      rawGets: rawEntry,
      // The value's JSON follows the entry header (entry.ts); the kit parses exactly that part.
      rawGetsAndParse: async () => {
        const text = await rawEntry();
        if ((JSON.parse(text.slice(text.indexOf('|{') + 1)) as typeof value).id !== value.id) throw new Error('raw parse read another value');
      },
      rawGroupedGets: async () => {
        const found = await raw.gets([pageStoreKey, generationStoreKey]);
        if (found.get(pageStoreKey)?.value.length !== storedPage.length || !found.has(generationStoreKey)) throw new Error('raw grouped gets missed');
      },
      cacheAsideHit: async () => {
        const outcome = await cache.getWithOutcome(item, load, policy);
        if ((outcome.value as typeof value).id !== value.id) throw new Error('kit item hit returned another value');
      },
      groupedHit: () => cache.getWithOutcome(page, load, routeCallOptions(policy, { group: ITEM_LIST_GROUP })),
    },
    ops,
    warmUp,
  );
  // Every measured kit call was a hit (a miss would time the origin, not the cache).
  if (cache.stats().hits - hitsBefore < 2 * (ops + warmUp)) throw new Error('a kit path did not hit');
  raw.destroy();
  await cache.close();
  const ratiosOf = (kit: LatencySummary) => ({
    p50: ratio(kit.p50Us, samples.rawGets.p50Us),
    p99: ratio(kit.p99Us, samples.rawGets.p99Us),
    p50VsGetAndParse: ratio(kit.p50Us, samples.rawGetsAndParse.p50Us),
    p99VsGetAndParse: ratio(kit.p99Us, samples.rawGetsAndParse.p99Us),
  });
  return {
    valueBytes: Buffer.byteLength(stored),
    ...samples,
    ratios: { cacheAsideHit: ratiosOf(samples.cacheAsideHit), groupedHit: ratiosOf(samples.groupedHit) },
    groupedVsRawGroupedGets: { p50: ratio(samples.groupedHit.p50Us, samples.rawGroupedGets.p50Us), p99: ratio(samples.groupedHit.p99Us, samples.rawGroupedGets.p99Us) },
  };
}
