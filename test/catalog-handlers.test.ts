import { createDeleteItemHandler } from '../lambda/catalog/delete-item';
import { CatalogDeps } from '../lambda/catalog/deps';
import { createGetItemHandler } from '../lambda/catalog/get-item';
import { handler as health } from '../lambda/catalog/health';
import { createListItemsHandler } from '../lambda/catalog/list-items';
import { MemoryItemRepository } from '../lambda/catalog/memory-item-repository';
import { createPutItemHandler } from '../lambda/catalog/put-item';
import { restEvent } from './support/events';

const items = new MemoryItemRepository();
const deps = (): CatalogDeps => ({ items, now: () => new Date('2026-11-26T00:00:00Z') });
const getItem = createGetItemHandler(deps);
const listItems = createListItemsHandler(deps);
const putItem = createPutItemHandler(deps);
const deleteItem = createDeleteItemHandler(deps);

const put = (id: string, body: unknown) =>
  putItem(restEvent('PUT /items/{id}', `/items/${id}`, { body: typeof body === 'string' ? body : JSON.stringify(body) }));
const parse = (result: { body: string }) => JSON.parse(result.body);

describe('PUT /items/{id}', () => {
  test('stores a valid item and answers it, never cacheable', async () => {
    const res = await put('lamp-1', { name: ' Desk lamp ', price: 39.5, tags: ['light'] });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': 'private, no-store' });
    expect(parse(res)).toEqual({ id: 'lamp-1', name: 'Desk lamp', price: 39.5, tags: ['light'], updatedAt: '2026-11-26T00:00:00.000Z' });
    expect(await items.get('lamp-1')).toMatchObject({ name: 'Desk lamp' });
  });

  test.each([
    ['malformed JSON', '{"name": "x", ', 'Request body is not valid JSON', undefined],
    ['a JSON array', '[1,2]', 'Request body must be a JSON object', undefined],
    ['a missing name', { price: 1 }, 'name', 'name'],
    ['an empty name', { name: '   ', price: 1 }, 'name', 'name'],
    ['a string price', { name: 'x', price: '1' }, 'price', 'price'],
    ['a negative price', { name: 'x', price: -1 }, 'price', 'price'],
    ['a too long tag', { name: 'x', price: 1, tags: ['a'.repeat(51)] }, 'tags.0', 'tags.0'],
    ['an unknown field', { name: 'x', price: 1, colour: 'red' }, 'colour', 'colour'],
  ])('answers 400 naming the problem for %s, and stores nothing', async (_case, body, message, field) => {
    const res = await put('bad-1', body);
    expect(res.statusCode).toBe(400);
    const error = parse(res);
    expect(error).toMatchObject({ code: 'BAD_REQUEST', requestId: expect.any(String) });
    expect(error.message).toContain(message);
    expect(error.field).toBe(field);
    expect(await items.get('bad-1')).toBeUndefined();
  });

  test('answers 400 for an invalid id', async () => {
    const res = await put('not%20ok', { name: 'x', price: 1 });
    expect(res.statusCode).toBe(400);
    expect(parse(res)).toMatchObject({ field: 'id' });
  });

  test('answers 413 for a body over the route limit', async () => {
    const res = await put('big-1', { name: 'x', price: 1, description: 'd'.repeat(20_000) });
    expect(res.statusCode).toBe(413);
    expect(parse(res)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await items.get('big-1')).toBeUndefined();
  });

  test('answers 415 for a body that is not JSON', async () => {
    const res = await putItem(restEvent('PUT /items/{id}', '/items/x', { body: 'name=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }));
    expect(res.statusCode).toBe(415);
  });

  test('decodes a base64 body', async () => {
    const event = restEvent('PUT /items/{id}', '/items/b64', { body: JSON.stringify({ name: 'B', price: 2 }) });
    const res = await putItem({ ...event, body: Buffer.from(event.body!).toString('base64'), isBase64Encoded: true });
    expect(res.statusCode).toBe(200);
    expect(parse(res).name).toBe('B');
  });
});

describe('GET /items/{id}', () => {
  test('answers a stored item', async () => {
    await put('chair-1', { name: 'Chair', price: 80 });
    const res = await getItem(restEvent('GET /items/{id}', '/items/chair-1'));
    expect(res.statusCode).toBe(200);
    expect(parse(res)).toMatchObject({ id: 'chair-1', name: 'Chair', price: 80 });
  });

  test('answers 404 JSON for a missing item', async () => {
    const res = await getItem(restEvent('GET /items/{id}', '/items/nope'));
    expect(res.statusCode).toBe(404);
    expect(parse(res)).toMatchObject({ code: 'NOT_FOUND', message: 'Item nope not found' });
    expect(res.headers?.['Cache-Control']).toBe('private, no-store');
  });
});

describe('GET /items', () => {
  test('pages through every item with opaque cursors', async () => {
    for (const id of ['p-1', 'p-2', 'p-3']) await put(id, { name: id, price: 1 });
    const all = [...(await items.list(1000)).items.map((i) => i.id)];
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await listItems(restEvent('GET /items', `/items?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(res.statusCode).toBe(200);
      const page = parse(res);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i: { id: string }) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  test.each([['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=abc', 'limit'], ['cursor=%25%25', 'cursor']])(
    'answers 400 for %s',
    async (query, field) => {
      const res = await listItems(restEvent('GET /items', `/items?${query}`));
      expect(res.statusCode).toBe(400);
      expect(parse(res).field).toBe(field);
    },
  );
});

describe('DELETE /items/{id}', () => {
  test('deletes, then answers 404', async () => {
    await put('gone-1', { name: 'x', price: 1 });
    expect((await deleteItem(restEvent('DELETE /items/{id}', '/items/gone-1'))).statusCode).toBe(204);
    expect((await deleteItem(restEvent('DELETE /items/{id}', '/items/gone-1'))).statusCode).toBe(404);
    expect(await items.get('gone-1')).toBeUndefined();
  });
});

test('GET /health answers ok without touching the store', async () => {
  const res = await health(restEvent('GET /health', '/health'));
  expect(res.statusCode).toBe(200);
  expect(parse(res)).toMatchObject({ status: 'ok' });
});

test('an unexpected failure is a 500 JSON that reveals nothing', async () => {
  const failing = createGetItemHandler(() => ({ ...deps(), items: { ...items, get: async () => { throw new Error('secret detail'); } } as never }));
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const res = await failing(restEvent('GET /items/{id}', '/items/x'));
  expect(res.statusCode).toBe(500);
  expect(res.body).not.toContain('secret detail');
  expect(spy).toHaveBeenCalledTimes(1);
  spy.mockRestore();
});

describe('reads go through the data cache and writes invalidate it', () => {
  test('an item read twice is a miss then a hit; after a PUT the next read misses and shows the write', async () => {
    await put('cached-1', { name: 'v1', price: 1 });
    const read = () => getItem(restEvent('GET /items/{id}', '/items/cached-1'));
    const first = await read();
    expect(first.headers?.['X-Data-Cache']).toBe('miss');
    const second = await read();
    expect(second.headers?.['X-Data-Cache']).toBe('hit');
    expect(parse(second).name).toBe('v1');
    await put('cached-1', { name: 'v2', price: 2 });
    const third = await read();
    expect(third.headers?.['X-Data-Cache']).toBe('miss');
    expect(parse(third).name).toBe('v2');
  });

  test('a write makes every list page a miss; a delete makes the item 404 at once', async () => {
    const page = () => listItems(restEvent('GET /items', '/items?limit=3'));
    await page();
    expect((await page()).headers?.['X-Data-Cache']).toBe('hit');
    await put('cached-2', { name: 'new', price: 3 });
    expect((await page()).headers?.['X-Data-Cache']).toBe('miss');
    await getItem(restEvent('GET /items/{id}', '/items/cached-2'));
    expect((await deleteItem(restEvent('DELETE /items/{id}', '/items/cached-2'))).statusCode).toBe(204);
    expect((await getItem(restEvent('GET /items/{id}', '/items/cached-2'))).statusCode).toBe(404);
  });

  test('a direct write to the store is served stale until invalidated (what the stream purge is for)', async () => {
    await put('cached-3', { name: 'before', price: 1 });
    await getItem(restEvent('GET /items/{id}', '/items/cached-3'));
    await items.put({ id: 'cached-3', name: 'behind the API', price: 1, updatedAt: 'x' });
    expect(parse(await getItem(restEvent('GET /items/{id}', '/items/cached-3'))).name).toBe('before');
  });
});

test('a missing item is cached as "not found" and says so in X-Data-Cache', async () => {
  const first = await getItem(restEvent('GET /items/{id}', '/items/never-1'));
  const second = await getItem(restEvent('GET /items/{id}', '/items/never-1'));
  expect([first.statusCode, second.statusCode]).toEqual([404, 404]);
  expect([first.headers?.['X-Data-Cache'], second.headers?.['X-Data-Cache']]).toEqual(['miss', 'hit']);
});
