// The kit as most handlers use it: the public runtime entry, configured by DATA_CACHE_* variables
// (the bench sets DATA_CACHE_ENGINE=redis). Built as the stack builds a Redis client, with
// DATA_CACHE_BUNDLED_BACKEND defined, so only the Redis backend is in the bundle; getCacheClient() at
// module scope loads the configured one during init, without connecting.
import { cacheAside, getCacheClient } from '../../../lambda/runtime/cache/index';

getCacheClient();

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: JSON.stringify(await cacheAside('item', async () => ({ id: 'item' }))),
});
