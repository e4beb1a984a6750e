// The kit's cache-aside over the Redis store, built by hand (only the Redis backend is bundled).
import { CacheClient } from '../../../lambda/runtime/cache/cache-aside';
import { RedisStore } from '../../../lambda/runtime/cache/redis-store';

const cache = new CacheClient({
  ttlSeconds: 60,
  store: new RedisStore({ host: process.env.BENCH_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 6379) }),
});

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: JSON.stringify(await cache.get('item', async () => ({ id: 'item' }))),
});
