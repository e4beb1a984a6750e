import { getCacheClient } from '../runtime/cache/from-env';
import { ITEM_LIST_GROUP, itemKey } from './cache-keys';

/**
 * Makes the item and every list page misses right after a write, so the writer's next read
 * sees its write. Never fails the request: an unreachable cache returns false, and the
 * table's stream purge (lambda/purge/data-cache-purge.ts) invalidates the same keys anyway.
 */
export async function invalidateItem(id: string): Promise<void> {
  const cache = getCacheClient();
  await Promise.all([cache.invalidate(itemKey(id)), cache.invalidateGroup(ITEM_LIST_GROUP)]);
}
