import { getCacheClient } from '../runtime/cache/from-env';
import { ITEM_LIST_GROUP, itemKey } from './cache-keys';

/**
 * Makes the item and every list page misses right after a write, so every read that starts
 * after the response sees the write (the coherence contract, lambda/runtime/cache/README.md).
 * Never fails the request: an invalidation the cache does not confirm (it is unreachable) is
 * kept and replayed by the CacheClient until it does, this process reads those keys from the
 * table meanwhile, and the table's stream purge (lambda/purge/data-cache-purge.ts) invalidates
 * the same keys anyway. Resolves to whether the cache confirmed both.
 */
export async function invalidateItem(id: string): Promise<boolean> {
  const cache = getCacheClient();
  const confirmed = await Promise.all([cache.invalidate(itemKey(id)), cache.invalidateGroup(ITEM_LIST_GROUP)]);
  return confirmed.every(Boolean);
}
