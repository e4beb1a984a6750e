import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { toProxyEvent } from '../dev/apigw-event';
import { CatalogDeps } from '../lambda/catalog/deps';
import { createGetItemHandler } from '../lambda/catalog/get-item';
import { invalidateItem } from '../lambda/catalog/invalidate-item';
import { createListItemsHandler } from '../lambda/catalog/list-items';
import { MemoryItemRepository } from '../lambda/catalog/memory-item-repository';
import { cacheableJson, DataCacheStatus, entityTag, ifNoneMatchHits } from '../lambda/runtime/http/caching';
import { routeSettings } from '../lambda/runtime/http/route-settings';
import { INVOCATION_ENV } from '../lambda/runtime/invocation-env';

const EDGE_CACHE_CONTROL = 'public, max-age=0, s-maxage=60, stale-while-revalidate=30, stale-if-error=300';
/** Settings of an edge-cached route keyed on a header, parsed as the runtime parses them. */
const edgeRoute = routeSettings({ ROUTE_KEY: 'GET /items/{id}', ROUTE_CACHE_CONTROL: EDGE_CACHE_CONTROL, ROUTE_VARY: 'Accept-Language' });
/** Settings of a route the infrastructure does not let the edge cache (no ROUTE_CACHE_CONTROL). */
const privateRoute = routeSettings({ ROUTE_KEY: 'GET /me' });

/** A REST v1 proxy event as API Gateway sends it; `headers` may repeat a name. */
function event(method: string, path: string, headers: Array<[string, string]> = []): APIGatewayProxyEvent {
  const resourcePath = path.startsWith('/items/') ? '/items/{id}' : path;
  const pathParameters: Record<string, string> = path.startsWith('/items/') ? { id: path.slice('/items/'.length) } : {};
  return toProxyEvent({ method, path, headers: [['Host', 'api.example.com'], ...headers] }, { resourcePath, pathParameters }, { stage: 'v1' });
}

const ITEM = { id: 'lamp-1', name: 'Desk lamp', price: 39.5, updatedAt: '2026-11-26T00:00:00.000Z' };

describe('Cache-Control and Vary', () => {
  test('a successful GET on an edge-cached route carries the route Cache-Control and Vary', () => {
    const res = cacheableJson(event('GET', '/items/lamp-1'), 200, ITEM, { settings: edgeRoute });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': EDGE_CACHE_CONTROL, Vary: 'Accept-Language' });
    expect(JSON.parse(res.body)).toEqual(ITEM);
  });

  test('a route that is not edge-cached stays private, no-store and sends no Vary', () => {
    const res = cacheableJson(event('GET', '/me'), 200, { me: 1 }, { settings: privateRoute });
    expect(res.headers?.['Cache-Control']).toBe('private, no-store');
    expect(res.headers).not.toHaveProperty('Vary');
  });

  test('without explicit settings it reads the invocation environment of the route', () => {
    const holder = globalThis as { [INVOCATION_ENV]?: { getStore(): NodeJS.ProcessEnv } };
    const routeEnv = { ROUTE_CACHE_CONTROL: 'public, max-age=5, s-maxage=30' };
    holder[INVOCATION_ENV] = { getStore: () => routeEnv };
    try {
      expect(cacheableJson(event('GET', '/items/x'), 200, ITEM).headers?.['Cache-Control']).toBe('public, max-age=5, s-maxage=30');
    } finally {
      delete holder[INVOCATION_ENV];
    }
  });

  test.each(['PUT', 'POST', 'PATCH', 'DELETE'])('a %s answer is private, no-store without ETag or Vary, whatever the route says', (method) => {
    const res = cacheableJson(event(method, '/items/lamp-1', [['If-None-Match', '*']]), 200, ITEM, { settings: edgeRoute });
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['Cache-Control']).toBe('private, no-store');
    expect(res.headers).not.toHaveProperty('ETag');
    expect(res.headers).not.toHaveProperty('Vary');
  });

  test('caller headers cannot override the caching headers', () => {
    const res = cacheableJson(event('GET', '/items/x'), 200, ITEM, {
      settings: edgeRoute,
      headers: { 'Cache-Control': 'public, max-age=31536000', Link: '</items>; rel="collection"' },
    });
    expect(res.headers).toMatchObject({ 'Cache-Control': EDGE_CACHE_CONTROL, Link: '</items>; rel="collection"' });
  });
});

describe('negative answers', () => {
  test('a 404 is private, no-store by default, even on an edge-cached route', () => {
    const res = cacheableJson(event('GET', '/items/nope'), 404, { code: 'NOT_FOUND' }, { settings: edgeRoute });
    expect(res.headers?.['Cache-Control']).toBe('private, no-store');
    expect(res.headers).not.toHaveProperty('ETag');
  });

  test('a 404 may be kept briefly by the edge when the handler allows it on an edge-cached route', () => {
    const res = cacheableJson(event('GET', '/items/nope'), 404, { code: 'NOT_FOUND' }, { settings: edgeRoute, negativeTtlSeconds: 5 });
    expect(res.headers).toMatchObject({ 'Cache-Control': 'public, max-age=0, s-maxage=5', Vary: 'Accept-Language' });
    expect(res.headers).not.toHaveProperty('ETag');
  });

  test('negativeTtlSeconds is ignored on a route the edge does not cache, and for other errors', () => {
    expect(cacheableJson(event('GET', '/me'), 404, {}, { settings: privateRoute, negativeTtlSeconds: 5 }).headers?.['Cache-Control']).toBe('private, no-store');
    expect(cacheableJson(event('GET', '/items/x'), 500, {}, { settings: edgeRoute, negativeTtlSeconds: 5 }).headers?.['Cache-Control']).toBe('private, no-store');
    expect(cacheableJson(event('GET', '/items/x'), 400, {}, { settings: edgeRoute, negativeTtlSeconds: 5 }).headers?.['Cache-Control']).toBe('private, no-store');
  });
});

describe('ETag', () => {
  test('is a strong, quoted tag: the first 22 base64url characters of the SHA-256 of the body bytes', () => {
    const res = cacheableJson(event('GET', '/items/x'), 200, { name: 'Café ☕' }, { settings: edgeRoute });
    const expected = createHash('sha256').update(Buffer.from(res.body, 'utf8')).digest('base64url').slice(0, 22);
    expect(res.headers?.ETag).toBe(`"${expected}"`);
    expect(res.headers?.ETag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
  });

  test('is stable for the same body and changes with any change of it', () => {
    const a = cacheableJson(event('GET', '/items/x'), 200, ITEM, { settings: edgeRoute }).headers?.ETag;
    const b = cacheableJson(event('GET', '/items/x'), 200, { ...ITEM }, { settings: edgeRoute }).headers?.ETag;
    const c = cacheableJson(event('GET', '/items/x'), 200, { ...ITEM, price: 39.51 }, { settings: edgeRoute }).headers?.ETag;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(entityTag('{"a":1}')).not.toBe(entityTag('{"a":2}'));
  });

  test('is also sent on a private route (a browser may revalidate what it holds in memory)', () => {
    expect(cacheableJson(event('GET', '/me'), 200, { me: 1 }, { settings: privateRoute }).headers?.ETag).toMatch(/^"/);
  });
});

describe('If-None-Match', () => {
  const etag = entityTag(JSON.stringify(ITEM));
  const conditional = (...headers: Array<[string, string]>) =>
    cacheableJson(event('GET', '/items/lamp-1', headers), 200, ITEM, { settings: edgeRoute, dataCache: 'hit' });

  test.each([
    ['the exact tag', etag],
    ['the tag among others in a list', `"other", ${etag} , "third"`],
    ['the weak form of the tag (weak comparison)', `W/${etag}`],
    ['a weak tag in a list', `W/"x", W/${etag}`],
    ['*', '*'],
    ['a list whose other tag contains a comma', `"a,b", ${etag}`],
  ])('answers 304 for %s, with no body but the same validators and caching headers', (_case, value) => {
    const res = conditional(['If-None-Match', value]);
    expect(res.statusCode).toBe(304);
    expect(res.body).toBe('');
    expect(res.headers).toEqual({ ETag: etag, 'Cache-Control': EDGE_CACHE_CONTROL, Vary: 'Accept-Language', 'X-Data-Cache': 'hit' });
  });

  test('matches a header name in any case and repeated header fields', () => {
    expect(conditional(['if-none-match', etag]).statusCode).toBe(304);
    expect(conditional(['If-None-Match', '"a"'], ['If-None-Match', etag]).statusCode).toBe(304);
  });

  test.each([
    ['a different tag', '"0123456789abcdefghijkl"'],
    ['the tag without quotes', etag.slice(1, -1)],
    ['a tag that only contains ours', `"x${etag.slice(1, -1)}"`],
    ['an empty value', ''],
  ])('answers 200 with the body for %s', (_case, value) => {
    const res = conditional(['If-None-Match', value]);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual(ITEM);
    expect(res.headers?.ETag).toBe(etag);
  });

  test('is ignored for answers that are not 2xx and for writes', () => {
    expect(cacheableJson(event('GET', '/items/x', [['If-None-Match', '*']]), 404, { code: 'NOT_FOUND' }, { settings: edgeRoute }).statusCode).toBe(404);
    expect(cacheableJson(event('PUT', '/items/x', [['If-None-Match', etag]]), 200, ITEM, { settings: edgeRoute }).statusCode).toBe(200);
  });

  test('ifNoneMatchHits compares weakly on both sides', () => {
    expect(ifNoneMatchHits('"abc"', 'W/"abc"')).toBe(true);
    expect(ifNoneMatchHits('W/"abc"', '"abc"')).toBe(true);
    expect(ifNoneMatchHits('"abd"', '"abc"')).toBe(false);
    expect(ifNoneMatchHits(undefined, '"abc"')).toBe(false);
  });
});

describe('X-Data-Cache', () => {
  test.each<DataCacheStatus>(['hit', 'miss', 'stale', 'bypass', 'error'])('carries %s when the handler passes it', (status) => {
    const res = cacheableJson(event('GET', '/items/x'), 200, ITEM, { settings: edgeRoute, dataCache: status });
    expect(res.headers?.['X-Data-Cache']).toBe(status);
  });

  test('is absent when the handler has no data cache, and present on errors it passes it for', () => {
    expect(cacheableJson(event('GET', '/items/x'), 200, ITEM, { settings: edgeRoute }).headers).not.toHaveProperty('X-Data-Cache');
    expect(cacheableJson(event('GET', '/items/x'), 404, {}, { settings: edgeRoute, dataCache: 'miss' }).headers?.['X-Data-Cache']).toBe('miss');
  });
});

describe('catalog GET handlers', () => {
  const items = new MemoryItemRepository();
  const deps = (): CatalogDeps => ({ items, now: () => new Date() });
  const holder = globalThis as { [INVOCATION_ENV]?: { getStore(): NodeJS.ProcessEnv } };
  beforeAll(async () => {
    await items.put(ITEM);
    holder[INVOCATION_ENV] = { getStore: () => ({ ROUTE_CACHE_CONTROL: EDGE_CACHE_CONTROL }) };
  });
  afterAll(() => {
    delete holder[INVOCATION_ENV];
  });

  test('GET /items/{id} answers the item with an ETag, then 304 to a revalidation, then 200 after a change', async () => {
    const getItem = createGetItemHandler(deps);
    const first = await getItem(event('GET', '/items/lamp-1'));
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({ 'Cache-Control': EDGE_CACHE_CONTROL, ETag: entityTag(first.body) });
    const again = await getItem(event('GET', '/items/lamp-1', [['If-None-Match', first.headers!.ETag as string]]));
    expect(again.statusCode).toBe(304);
    // A write elsewhere, then the invalidation the table's stream purge would make.
    await items.put({ ...ITEM, price: 41 });
    await invalidateItem(ITEM.id);
    const changed = await getItem(event('GET', '/items/lamp-1', [['If-None-Match', first.headers!.ETag as string]]));
    expect(changed.statusCode).toBe(200);
    expect(JSON.parse(changed.body).price).toBe(41);
  });

  test('GET /items answers a page with an ETag and 304 when unchanged', async () => {
    const listItems = createListItemsHandler(deps);
    const list = (headers: Array<[string, string]> = []) =>
      listItems(toProxyEvent({ method: 'GET', path: '/items', query: 'limit=5', headers }, { resourcePath: '/items', pathParameters: {} }));
    const first = await list();
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body).items).toHaveLength(1);
    expect((await list([['If-None-Match', `W/${first.headers!.ETag}`]])).statusCode).toBe(304);
  });

  test('a missing item stays a 404 that no cache keeps', async () => {
    const res = await createGetItemHandler(deps)(event('GET', '/items/nope'));
    expect(res.statusCode).toBe(404);
    expect(res.headers?.['Cache-Control']).toBe('private, no-store');
  });
});
