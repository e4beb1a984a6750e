import type { APIGatewayProxyEvent } from 'aws-lambda';
import { cacheAsideWithOutcome } from '../runtime/cache/from-env';
import { cacheableJson } from '../runtime/http/caching';
import { badRequest } from '../runtime/http/errors';
import { apiHandler, ApiHandler } from '../runtime/http/handler';
import { timeOrigin } from '../runtime/metrics/request-metrics';
import { ITEM_LIST_GROUP, itemListPageKey } from './cache-keys';
import { CatalogDeps, catalogDeps } from './deps';
import { parseItemId } from './item';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * GET /items?limit=&cursor=: one page of items and the cursor of the next, read through the
 * data cache; every page belongs to one group, which any item change invalidates at once.
 */
export function createListItemsHandler(deps: () => CatalogDeps): ApiHandler {
  return apiHandler(async (event) => {
    const { limit, cursor } = parsePageQuery(event);
    const { items } = deps();
    const { value: page, outcome } = await cacheAsideWithOutcome(
      itemListPageKey(limit, cursor),
      () => timeOrigin(() => items.list(limit, cursor)),
      { group: ITEM_LIST_GROUP },
    );
    const { items: pageItems = [], nextCursor } = page ?? {};
    return cacheableJson(
      event,
      200,
      { items: pageItems, nextCursor: nextCursor === undefined ? undefined : encodeCursor(nextCursor) },
      { dataCache: outcome },
    );
  });
}

function parsePageQuery(event: APIGatewayProxyEvent): { limit: number; cursor?: string } {
  const query = event.queryStringParameters ?? {};
  let limit = DEFAULT_PAGE_SIZE;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!/^\d+$/.test(query.limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw badRequest(`limit must be an integer between 1 and ${MAX_PAGE_SIZE}`, 'limit');
    }
  }
  return { limit, cursor: query.cursor === undefined ? undefined : decodeCursor(query.cursor) };
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    return parseItemId(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('cursor is not a cursor returned by this API', 'cursor');
  }
}

export const handler = createListItemsHandler(catalogDeps);
