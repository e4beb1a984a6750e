/**
 * The catalog's data-cache key scheme, shared by the GET handlers (which cache under these keys)
 * and the stream-driven purge (which invalidates them after any write to the table, whoever the
 * writer). The purge fills the templates from the stream record's attributes of the same name.
 *
 *   one item     key   `item:{id}`                  deleted when the item changes
 *   list pages   keys  `items:limit=<n>:cursor=<c>` in group `items`, whose generation is
 *                                                   bumped on any change (every page goes at once)
 */

/** Key template of one item; `{id}` is the table's partition key. */
export const ITEM_KEY_TEMPLATE = 'item:{id}';

/** Group of every list page: `invalidateGroup(ITEM_LIST_GROUP)` makes them all misses. */
export const ITEM_LIST_GROUP = 'items';

/** What the data-cache purge of the catalog table invalidates (CacheSync's `dataKeys` / `dataGroups`). */
export const CATALOG_DATA_PURGE = { keys: [ITEM_KEY_TEMPLATE], groups: [ITEM_LIST_GROUP] } as const;

/** Key of one item: `cacheAside(itemKey(id), () => items.get(id))`. */
export function itemKey(id: string): string {
  return ITEM_KEY_TEMPLATE.replace('{id}', () => id);
}

/** Key of one list page, read with `{ group: ITEM_LIST_GROUP }`. */
export function itemListPageKey(limit: number, cursor?: string): string {
  return `items:limit=${limit}:cursor=${cursor ?? ''}`;
}
