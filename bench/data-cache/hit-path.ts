import Redis from 'iovalkey';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { LatencySummary, measureInterleaved, ratio } from './stats';

export interface HitPathResult {
  readonly valueBytes: number;
  readonly rawGet: LatencySummary;
  readonly rawGetAndParse: LatencySummary;
  readonly cacheAsideHit: LatencySummary;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
  /** Against GET + JSON.parse: what any cache returning objects (not strings) must at least do. */
  readonly p50RatioVsGetAndParse: number;
  readonly p99RatioVsGetAndParse: number;
}

/**
 * Sequential hit latency of the kit's cache-aside vs a raw iovalkey GET of the same 1 KB
 * value (and a raw GET + JSON.parse, for reference), after a warm-up.
 */
export async function measureHitPath(host: string, port: number, ops = 20_000, warmUp = 3_000): Promise<HitPathResult> {
  const value = { id: 'item-1', body: 'x'.repeat(1000 - 30) };
  const raw = new Redis({ host, port });
  const cache = new CacheClient({ ttlSeconds: 3600, store: new RedisStore({ host, port }) });
  const load = async () => value;
  await cache.get('bench-item', load); // fill (the kit's entry, with its metadata header)
  await raw.set('bench-raw', JSON.stringify(value));
  const valueBytes = Buffer.byteLength((await raw.get('bench-raw')) ?? '');

  const { rawGet, rawGetAndParse, cacheAsideHit } = await measureInterleaved(
    {
      rawGet: () => raw.get('bench-raw'),
      rawGetAndParse: async () => JSON.parse((await raw.get('bench-raw')) as string) as unknown,
      cacheAsideHit: () => cache.get('bench-item', load),
    },
    ops,
    warmUp,
  );
  if (cache.stats().hits < ops) throw new Error('cache-aside path did not hit');
  raw.disconnect();
  await cache.close();
  return {
    valueBytes,
    rawGet,
    rawGetAndParse,
    cacheAsideHit,
    p50Ratio: ratio(cacheAsideHit.p50Us, rawGet.p50Us),
    p99Ratio: ratio(cacheAsideHit.p99Us, rawGet.p99Us),
    p50RatioVsGetAndParse: ratio(cacheAsideHit.p50Us, rawGetAndParse.p50Us),
    p99RatioVsGetAndParse: ratio(cacheAsideHit.p99Us, rawGetAndParse.p99Us),
  };
}
