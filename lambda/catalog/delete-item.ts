import { apiHandler, ApiHandler } from '../runtime/http/handler';
import { notFound } from '../runtime/http/errors';
import { pathParameter } from '../runtime/http/request';
import { json } from '../runtime/http/response';
import { CatalogDeps, catalogDeps } from './deps';
import { invalidateItem } from './invalidate-item';
import { parseItemId } from './item';

/** DELETE /items/{id}: 204 and its cached reads invalidated, or 404 when there was no such item. */
export function createDeleteItemHandler(deps: () => CatalogDeps): ApiHandler {
  return apiHandler(async (event) => {
    const id = parseItemId(pathParameter(event, 'id'));
    if (!(await deps().items.delete(id))) throw notFound(`Item ${id} not found`);
    await invalidateItem(id);
    return json(204, undefined);
  });
}

export const handler = createDeleteItemHandler(catalogDeps);
