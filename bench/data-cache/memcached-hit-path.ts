import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { MemcachedConnection } from '../../lambda/runtime/cache/memcached-client';
import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import { LatencySummary, measureInterleaved, ratio } from './stats';

export interface MemcachedHitPathResult {
  readonly rawGets: LatencySummary;
  readonly cacheAsideHit: LatencySummary;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
}

/** Same comparison as the Redis one, against the bare client's `gets` (interleaved per op). */
export async function measureMemcachedHitPath(host: string, port: number, ops = 20_000, warmUp = 3_000): Promise<MemcachedHitPathResult> {
  const value = { id: 'item-1', body: 'x'.repeat(1000 - 30) };
  const raw = await MemcachedConnection.connect({ host, port });
  const cache = new CacheClient({ ttlSeconds: 3600, store: new MemcachedStore({ servers: [{ host, port }] }) });
  const load = async () => value;
  await cache.get('bench-item', load);
  await raw.set('bench-raw', JSON.stringify(value), 3600);
  const { rawGets, cacheAsideHit } = await measureInterleaved(
    { rawGets: () => raw.gets(['bench-raw']), cacheAsideHit: () => cache.get('bench-item', load) },
    ops,
    warmUp,
  );
  raw.destroy();
  await cache.close();
  return {
    rawGets,
    cacheAsideHit,
    p50Ratio: ratio(cacheAsideHit.p50Us, rawGets.p50Us),
    p99Ratio: ratio(cacheAsideHit.p99Us, rawGets.p99Us),
  };
}
