/**
 * The dev edge never keeps a response computed before a purge it has seen: the origin request of
 * a fill starts, a write purges the path, the (old) response arrives after the purge.
 */
import { DevEdgeCache, EdgeResponse } from '../../dev/edge-cache';

const response = (body: string): EdgeResponse => ({ statusCode: 200, headers: [['Cache-Control', 's-maxage=60']], body: Buffer.from(body) });

test('a fill that started before a matching purge is not stored', () => {
  const edge = new DevEdgeCache(() => 0);
  const started = edge.beginFill();
  edge.invalidate(['/items/a']);
  edge.store('GET /items/a', 'GET /items/{id}', '/items/a', response('old'), 60, started);
  expect(edge.lookup('GET /items/a')).toBeUndefined();
});

test('a fill that started before a wildcard purge of its path is not stored; other paths are', () => {
  const edge = new DevEdgeCache(() => 0);
  const started = edge.beginFill();
  edge.invalidate(['/items?*']);
  edge.store('list', 'GET /items', '/items?limit=5', response('old page'), 60, started);
  edge.store('b', 'GET /items/{id}', '/items/b', response('b'), 60, started);
  expect(edge.lookup('list')).toBeUndefined();
  expect(edge.lookup('b')?.response.body.toString()).toBe('b');
});

test('a fill that started after the purge is stored', () => {
  const edge = new DevEdgeCache(() => 0);
  edge.invalidate(['/items/a']);
  const started = edge.beginFill();
  edge.store('GET /items/a', 'GET /items/{id}', '/items/a', response('new'), 60, started);
  expect(edge.lookup('GET /items/a')?.response.body.toString()).toBe('new');
});

test('a fill older than every purge remembered is refused (the one that matched may be forgotten)', () => {
  const edge = new DevEdgeCache(() => 0);
  const started = edge.beginFill();
  for (let i = 0; i < 1500; i++) edge.invalidate([`/other/${i}`]);
  edge.store('GET /items/a', 'GET /items/{id}', '/items/a', response('old'), 60, started);
  expect(edge.lookup('GET /items/a')).toBeUndefined();
});
