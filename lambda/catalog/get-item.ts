import { apiHandler, ApiHandler } from '../runtime/http/handler';
import { notFound } from '../runtime/http/errors';
import { pathParameter } from '../runtime/http/request';
import { cacheableJson } from '../runtime/http/caching';
import { CatalogDeps, catalogDeps } from './deps';
import { parseItemId } from './item';

/** GET /items/{id}: one item (with ETag and the route's Cache-Control, 304 when unchanged), or 404. */
export function createGetItemHandler(deps: () => CatalogDeps): ApiHandler {
  return apiHandler(async (event) => {
    const id = parseItemId(pathParameter(event, 'id'));
    const item = await deps().items.get(id);
    if (!item) throw notFound(`Item ${id} not found`);
    return cacheableJson(event, 200, item);
  });
}

export const handler = createGetItemHandler(catalogDeps);
