// The kit's cache-aside over the memcached store, built by hand (only the memcached backend is bundled).
import { CacheClient } from '../../../lambda/runtime/cache/cache-aside';
import { MemcachedStore } from '../../../lambda/runtime/cache/memcached-store';

const cache = new CacheClient({
  ttlSeconds: 60,
  store: new MemcachedStore({ servers: [{ host: process.env.BENCH_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 11211) }] }),
});

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: JSON.stringify(await cache.get('item', async () => ({ id: 'item' }))),
});
