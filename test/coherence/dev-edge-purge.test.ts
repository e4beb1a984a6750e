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

describe('over HTTP: a slow origin response computed before a write', () => {
  const { mkdtempSync, rmSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const path = require('node:path') as typeof import('node:path');
  const { Duration } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { createDevServer } = require('../../dev/server') as typeof import('../../dev/server');

  let dir: string;
  let server: import('../../dev/server').DevServer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cca-edge-race-'));
    const state = `globalThis.__edgeRaceVersion ??= 1;`;
    writeFileSync(path.join(dir, 'read.js'), `${state}
      exports.handler = async (event) => {
        const version = globalThis.__edgeRaceVersion;
        await new Promise((r) => setTimeout(r, globalThis.__edgeRaceDelay || 0));
        return { statusCode: 200, headers: { 'Cache-Control': 'public, s-maxage=60' }, body: String(version) };
      };`);
    writeFileSync(path.join(dir, 'write.js'), `${state}
      exports.handler = async () => { globalThis.__edgeRaceVersion++; return { statusCode: 204, body: '' }; };`);
    server = await createDevServer({
      routes: {
        'GET /things/{id}': { entry: path.join(dir, 'read.js'), cache: { edge: { ttl: Duration.seconds(60) } } },
        'PUT /things/{id}': { entry: path.join(dir, 'write.js') },
      },
      port: 0,
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('is not stored at the edge once the write purged its path: the next GET sees the write', async () => {
    const holder = globalThis as { __edgeRaceDelay?: number };
    holder.__edgeRaceDelay = 300; // the origin is slow for this one request
    const slow = fetch(`${server.url}/things/a`);
    await new Promise((r) => setTimeout(r, 100));
    holder.__edgeRaceDelay = 0;
    const put = await fetch(`${server.url}/things/a`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(204);
    expect(await (await slow).text()).toBe('1'); // computed before the write: fine for a read that started before it
    const after = await fetch(`${server.url}/things/a`);
    expect({ body: await after.text(), xCache: after.headers.get('x-cache') }).toEqual({ body: '2', xCache: 'Miss from dev-edge' });
  });
});
