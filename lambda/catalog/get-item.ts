import { apiHandler, ApiHandler } from '../runtime/http/handler';
import { notFound } from '../runtime/http/errors';
import { pathParameter } from '../runtime/http/request';
import { json } from '../runtime/http/response';
import { routeSettings } from '../runtime/http/route-settings';
import { CatalogDeps, catalogDeps } from './deps';
import { parseItemId } from './item';

/** GET /items/{id}: one item, or 404. */
export function createGetItemHandler(deps: () => CatalogDeps): ApiHandler {
  return apiHandler(async (event) => {
    const id = parseItemId(pathParameter(event, 'id'));
    const item = await deps().items.get(id);
    if (!item) throw notFound(`Item ${id} not found`);
    return json(200, item, routeSettings().cacheHeaders);
  });
}

export const handler = createGetItemHandler(catalogDeps);
