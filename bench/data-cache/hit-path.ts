import Redis from 'iovalkey';
import { DataCache } from '../../lambda/runtime/cache/cache-aside';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { LatencySummary, summarize } from './stats';

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
  const cache = new DataCache({ ttlSeconds: 3600, store: new RedisStore({ host, port }) });
  const load = async () => value;
  await cache.get('bench-item', load); // fill (the kit's entry, with its metadata header)
  await raw.set('bench-raw', JSON.stringify(value));
  const valueBytes = Buffer.byteLength((await raw.get('bench-raw')) ?? '');

  const paths = {
    rawGet: () => raw.get('bench-raw'),
    rawGetAndParse: async () => JSON.parse((await raw.get('bench-raw')) as string) as unknown,
    cacheAsideHit: () => cache.get('bench-item', load),
  };
  type Path = keyof typeof paths;
  const samples: Record<Path, number[]> = { rawGet: [], rawGetAndParse: [], cacheAsideHit: [] };
  const elapsed: Record<Path, number> = { rawGet: 0, rawGetAndParse: 0, cacheAsideHit: 0 };

  // Interleaved per operation, alternating the order, so machine noise (GC, CPU frequency,
  // other processes on a shared host) falls on every path alike; ops/s counts each path's own time.
  const names = Object.keys(paths) as Path[];
  const reversed = [...names].reverse();
  for (let i = 0; i < warmUp + ops; i++) {
    for (const name of i % 2 === 0 ? names : reversed) {
      const t = performance.now();
      await paths[name]();
      const d = performance.now() - t;
      if (i >= warmUp) {
        samples[name].push(d * 1000);
        elapsed[name] += d;
      }
    }
  }
  if (cache.stats().hits < ops) throw new Error('cache-aside path did not hit');
  raw.disconnect();
  await cache.close();

  const rawGet = summarize(samples.rawGet, elapsed.rawGet);
  const rawGetAndParse = summarize(samples.rawGetAndParse, elapsed.rawGetAndParse);
  const cacheAsideHit = summarize(samples.cacheAsideHit, elapsed.cacheAsideHit);
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
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
