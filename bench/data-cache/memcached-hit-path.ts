import { ITEM_LIST_GROUP, itemKey, itemListPageKey } from '../../lambda/catalog/cache-keys';
import { createCacheClient, readCachePolicy, readDataCacheSettings } from '../../lambda/runtime/cache/from-env';
import { MemcachedConnection } from '../../lambda/runtime/cache/memcached-client';
import { LatencySummary, measureInterleaved, ratio } from './stats';

export interface MemcachedHitPathResult {
  readonly rawGets: LatencySummary;
  readonly cacheAsideHit: LatencySummary;
  readonly groupedHit: LatencySummary;
  readonly ratios: Record<'cacheAsideHit' | 'groupedHit', { p50: number; p99: number }>;
}

/**
 * Same comparison on memcached: the CacheClient a memcached function builds from its environment,
 * called as `cacheAsideWithOutcome` calls it (`getWithOutcome` with the route's policy), for the
 * item key and the grouped list key, against the bare client's `gets` (interleaved per op).
 */
export async function measureMemcachedHitPath(host: string, port: number, ops = 20_000, warmUp = 3_000): Promise<MemcachedHitPathResult> {
  const value = { id: 'item-1', body: 'x'.repeat(1000 - 30) };
  const env = { DATA_CACHE_ENGINE: 'memcached', DATA_CACHE_ENDPOINT: `${host}:${port}`, DATA_CACHE_TLS: 'false', DATA_CACHE_KEY_PREFIX: 'bench', DATA_CACHE_TTL_SECONDS: '3600' };
  const raw = await MemcachedConnection.connect({ host, port });
  const cache = createCacheClient(readDataCacheSettings(env));
  const policy = readCachePolicy(env);
  const load = async () => value;
  const item = itemKey('item-1');
  const page = itemListPageKey(20);
  await cache.getWithOutcome(item, load, policy);
  await cache.getWithOutcome(page, load, { ...policy, group: ITEM_LIST_GROUP });
  await raw.set('bench-raw', JSON.stringify(value), 3600);
  const { rawGets, cacheAsideHit, groupedHit } = await measureInterleaved(
    {
      rawGets: () => raw.gets(['bench-raw']),
      cacheAsideHit: () => cache.getWithOutcome(item, load, policy),
      groupedHit: () => cache.getWithOutcome(page, load, { ...policy, group: ITEM_LIST_GROUP }),
    },
    ops,
    warmUp,
  );
  if (cache.stats().hits < 2 * ops) throw new Error('a kit path did not hit');
  raw.destroy();
  await cache.close();
  const ratiosOf = (kit: LatencySummary) => ({ p50: ratio(kit.p50Us, rawGets.p50Us), p99: ratio(kit.p99Us, rawGets.p99Us) });
  return { rawGets, cacheAsideHit, groupedHit, ratios: { cacheAsideHit: ratiosOf(cacheAsideHit), groupedHit: ratiosOf(groupedHit) } };
}
