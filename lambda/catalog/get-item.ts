import { cacheAsideWithOutcome } from '../runtime/cache/from-env';
import { cacheableJson, DATA_CACHE_HEADER } from '../runtime/http/caching';
import { notFound } from '../runtime/http/errors';
import { apiHandler, ApiHandler } from '../runtime/http/handler';
import { pathParameter } from '../runtime/http/request';
import { timeOrigin } from '../runtime/metrics/request-metrics';
import { itemKey } from './cache-keys';
import { CatalogDeps, catalogDeps } from './deps';
import { parseItemId } from './item';

/**
 * GET /items/{id}: one item read through the data cache (a missing item is cached as "not
 * found" for the route's negative TTL), with ETag and the route's Cache-Control; 304 when
 * unchanged; 404 when there is no such item.
 */
export function createGetItemHandler(deps: () => CatalogDeps): ApiHandler {
  return apiHandler(async (event) => {
    const id = parseItemId(pathParameter(event, 'id'));
    const { items } = deps();
    const { value: item, outcome } = await cacheAsideWithOutcome(itemKey(id), () => timeOrigin(() => items.get(id)));
    if (!item) throw notFound(`Item ${id} not found`).withHeaders({ [DATA_CACHE_HEADER]: outcome });
    return cacheableJson(event, 200, item, { dataCache: outcome });
  });
}

export const handler = createGetItemHandler(catalogDeps);
