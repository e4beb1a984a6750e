import { DataCache } from '../../lambda/runtime/cache/cache-aside';
import { MemcachedConnection } from '../../lambda/runtime/cache/memcached-client';
import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import { LatencySummary, summarize } from './stats';

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
  const cache = new DataCache({ ttlSeconds: 3600, store: new MemcachedStore({ servers: [{ host, port }] }) });
  const load = async () => value;
  await cache.get('bench-item', load);
  await raw.set('bench-raw', JSON.stringify(value), 3600);
  const paths = [() => raw.gets(['bench-raw']), () => cache.get('bench-item', load)];
  const samples: number[][] = [[], []];
  const elapsed = [0, 0];
  for (let i = 0; i < warmUp + ops; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const p of order) {
      const t = performance.now();
      await paths[p]();
      const d = performance.now() - t;
      if (i >= warmUp) {
        samples[p].push(d * 1000);
        elapsed[p] += d;
      }
    }
  }
  raw.destroy();
  await cache.close();
  const rawGets = summarize(samples[0], elapsed[0]);
  const cacheAsideHit = summarize(samples[1], elapsed[1]);
  return {
    rawGets,
    cacheAsideHit,
    p50Ratio: Math.round((cacheAsideHit.p50Us / rawGets.p50Us) * 100) / 100,
    p99Ratio: Math.round((cacheAsideHit.p99Us / rawGets.p99Us) * 100) / 100,
  };
}
