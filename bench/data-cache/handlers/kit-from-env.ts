// The kit as most handlers use it: the public runtime entry, configured by DATA_CACHE_* variables.
// Both backends are in the bundle; only the configured one is loaded (on first use).
import { cacheAside } from '../../../lambda/runtime/cache/index';

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: JSON.stringify(await cacheAside('item', async () => ({ id: 'item' }))),
});
