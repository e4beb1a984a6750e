/**
 * The dev server serves the 200-route scale table (bench/scale/dev-routes.ts, what
 * `npm run dev -- --routes bench/scale/dev-routes.ts` loads): every route is routed, and routes of
 * each auth kind answer from their handlers over real HTTP.
 */
import { createDevServer, DevServer } from '../../dev/server';
import { routes } from '../../bench/scale/dev-routes';

const KEY = 'scale-partner-key-0123456789';
let server: DevServer;

beforeAll(async () => {
  server = await createDevServer({
    routes,
    port: 0,
    watch: false,
    environment: { TABLE_NAME: 'memory' },
    consumers: [{ name: 'partner', apiKey: KEY }],
    log: () => undefined,
  });
});
afterAll(async () => {
  await server?.close();
});

test('all 200 routes are served', () => {
  expect(Object.keys(routes)).toHaveLength(200);
  expect(server.routes).toHaveLength(200);
});

test.each([
  ['public, data- and edge-cached', '/area0/item0'],
  ['IAM', '/area0/item1'],
  ['Cognito', '/area0/item2'],
  ['the last path of the table', '/area9/item49'],
])('%s: PUT then GET through the handlers', async (_kind, base) => {
  const put = await fetch(`${server.url}${base}/42`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'scale', price: 1 }) });
  expect(put.status).toBeLessThan(300);
  const get = await fetch(`${server.url}${base}/42`);
  expect(get.status).toBe(200);
  expect(await get.json()).toMatchObject({ name: 'scale' });
});

test('an API-key route refuses a request without the key and serves one with it', async () => {
  expect((await fetch(`${server.url}/area0/item3/7`)).status).toBe(403);
  const res = await fetch(`${server.url}/area0/item3/7`, { headers: { 'x-api-key': KEY } });
  expect(res.status).toBe(404);
});

test('a path outside the table is not found', async () => {
  expect((await fetch(`${server.url}/area10/item50/1`)).status).toBe(404);
});
