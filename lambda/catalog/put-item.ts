import { apiHandler, ApiHandler } from '../runtime/http/handler';
import { jsonBody, pathParameter } from '../runtime/http/request';
import { json } from '../runtime/http/response';
import { routeSettings } from '../runtime/http/route-settings';
import { CatalogDeps, catalogDeps } from './deps';
import { invalidateItem } from './invalidate-item';
import { Item, parseItemId, parseItemInput } from './item';

/** PUT /items/{id}: creates or replaces an item (idempotent) and invalidates its cached reads, answering the stored item. */
export function createPutItemHandler(deps: () => CatalogDeps): ApiHandler {
  return apiHandler(async (event) => {
    const id = parseItemId(pathParameter(event, 'id'));
    const input = parseItemInput(jsonBody(event, routeSettings().maxBodyBytes));
    const { items, now } = deps();
    const item: Item = { ...input, id, updatedAt: now().toISOString() };
    await items.put(item);
    await invalidateItem(id);
    return json(200, item);
  });
}

export const handler = createPutItemHandler(catalogDeps);
