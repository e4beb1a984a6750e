/**
 * Gateway safety and access (issue 10) over real HTTP against the dev server, which answers as
 * the deployed stack does: per-caller stage-cache entries, CORS with two allowed origins and a
 * denied one (handler answers through the runtime's apiHandler, pre-flight, gateway errors,
 * edge cache), and API keys with throttles and quotas.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { ApiAuthorization } from '../lib/api/api-authorization';
import type { RouteTable } from '../lib/api/route-spec';
import { createDevServer, DevServer } from '../dev/server';

const HTTP_RUNTIME = path.join(__dirname, '..', 'lambda', 'runtime', 'http', 'handler');
const SHOP = 'https://shop.example.com';
const ADMIN = 'https://admin.example.com';
const EVIL = 'https://evil.example.net';
const PUBLIC = ApiAuthorization.publicAccess('Public test content for everyone');
const pool = cognito.UserPool.fromUserPoolId(new Stack(), 'Pool', 'eu-west-1_abcdefghi');
const USERS = ApiAuthorization.cognito({ userPools: [pool] });
const KEY_QUOTA = 'quota-key-0123456789abcdef';
const KEY_BURST = 'burst-key-0123456789abcdef';

let dir: string;
let server: DevServer;
let clock = Date.UTC(2026, 10, 30, 12, 0, 0);

/** Handlers in a temp dir: each answers through the kit's apiHandler and counts its invocations. */
const handlers: Record<string, string> = {
  'whoami.js': `
    const { apiHandler } = require(${JSON.stringify(HTTP_RUNTIME)});
    let invocations = 0;
    exports.handler = apiHandler(async (event) => ({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ caller: event.headers.Authorization || event.headers.authorization || null, invocation: ++invocations }),
    }));`,
  'hello.js': `
    const { apiHandler } = require(${JSON.stringify(HTTP_RUNTIME)});
    exports.handler = apiHandler(async () => ({ statusCode: 200, headers: { 'Cache-Control': 'public, s-maxage=60', Vary: 'Accept-Language' }, body: '{"hello":"world"}' }));`,
};

const table = (): RouteTable => {
  const entry = (f: string) => path.join(dir, f);
  return {
    'GET /me': { entry: entry('whoami.js'), cache: { gateway: { ttl: Duration.seconds(60), perCaller: true } } },
    'GET /public': { entry: entry('whoami.js'), authorization: PUBLIC, cache: { gateway: { ttl: Duration.seconds(60) } } },
    'GET /hello': { entry: entry('hello.js'), authorization: PUBLIC, request: { queryStrings: { lang: true } } },
    'GET /cached': { entry: entry('hello.js'), authorization: PUBLIC, cache: { edge: { ttl: Duration.seconds(60) } } },
    'GET /partner': { entry: entry('hello.js'), authorization: PUBLIC, requireApiKey: true },
  };
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cca-gateway-'));
  for (const [file, source] of Object.entries(handlers)) writeFileSync(path.join(dir, file), source);
  server = await createDevServer({
    routes: table(),
    port: 0,
    keyPrefix: 'gw',
    log: () => undefined,
    now: () => clock,
    authorization: USERS,
    cors: { allowOrigins: [SHOP, ADMIN] },
    consumers: [
      { name: 'metered', apiKey: KEY_QUOTA, quota: { limit: 3, period: apigw.Period.DAY } },
      { name: 'bursty', apiKey: KEY_BURST, throttle: { rateLimit: 1, burstLimit: 2 } },
    ],
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (p: string, headers: Record<string, string> = {}) => fetch(`${server.url}${p}`, { headers });
const json = async (res: Response) => (await res.json()) as Record<string, any>;

describe('stage cache: two callers never share an entry', () => {
  test('each caller of a perCaller route gets its own entry; a public route shares one', async () => {
    const alice = { Authorization: 'Bearer alice-token' };
    const bob = { Authorization: 'Bearer bob-token' };
    const first = await json(await get('/me', alice));
    const second = await json(await get('/me', bob));
    expect(first.caller).toBe('Bearer alice-token');
    expect(second.caller).toBe('Bearer bob-token');
    expect(second.invocation).toBe(first.invocation + 1);
    // Repeats are answered from each caller's own entry, never the other's.
    expect(await json(await get('/me', alice))).toEqual(first);
    expect(await json(await get('/me', bob))).toEqual(second);
    // The public route keys on nothing of the caller: its entry is shared (the cache really works).
    const shared = await json(await get('/public', alice));
    expect(await json(await get('/public', bob))).toEqual(shared);
  });

  test('the dev server refuses an authenticated stage-cached route without perCaller, as synth does', async () => {
    await expect(
      createDevServer({
        routes: { 'GET /me': { entry: path.join(dir, 'whoami.js'), cache: { gateway: { ttl: Duration.seconds(60) } } } },
        port: 0,
        authorization: USERS,
        log: () => undefined,
      }),
    ).rejects.toThrow(/routes\['GET \/me'\]\.cache\.gateway: the route is authenticated \(cognito\)/);
  });
});

describe('CORS with two allowed origins and one denied', () => {
  test('handler responses echo an allowed Origin with Vary: Origin, and never a denied one', async () => {
    for (const origin of [SHOP, ADMIN]) {
      const res = await get('/hello?lang=en', { Origin: origin });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('vary')).toBe('Accept-Language, Origin');
    }
    const denied = await get('/hello?lang=en', { Origin: EVIL });
    expect(denied.status).toBe(200);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    expect(denied.headers.get('vary')).toBe('Accept-Language, Origin');
  });

  test('pre-flight answers an allowed origin with itself and a denied one with another origin', async () => {
    const admin = await fetch(`${server.url}/hello`, { method: 'OPTIONS', headers: { Origin: ADMIN, 'Access-Control-Request-Method': 'GET' } });
    expect(admin.status).toBe(204);
    expect(admin.headers.get('access-control-allow-origin')).toBe(ADMIN);
    expect(admin.headers.get('vary')).toBe('Origin');
    expect(admin.headers.get('access-control-allow-methods')).toContain('GET');
    const evil = await fetch(`${server.url}/hello`, { method: 'OPTIONS', headers: { Origin: EVIL } });
    expect(evil.headers.get('access-control-allow-origin')).toBe(SHOP);
  });

  test('gateway errors carry the request Origin and Vary: Origin, so the page can read the 4xx body', async () => {
    const res = await get('/hello', { Origin: ADMIN });
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe(ADMIN);
    expect(res.headers.get('vary')).toBe('Origin');
    expect((await json(res)).code).toBe('BAD_REQUEST_PARAMETERS');
  });

  test('an edge-cached route keys on Origin: one site never gets the other site\'s header', async () => {
    const shop = await get('/cached', { Origin: SHOP });
    expect(shop.headers.get('x-cache')).toMatch(/^Miss/);
    expect(shop.headers.get('access-control-allow-origin')).toBe(SHOP);
    const admin = await get('/cached', { Origin: ADMIN });
    expect(admin.headers.get('x-cache')).toMatch(/^Miss/);
    expect(admin.headers.get('access-control-allow-origin')).toBe(ADMIN);
    const again = await get('/cached', { Origin: SHOP });
    expect(again.headers.get('x-cache')).toMatch(/^Hit/);
    expect(again.headers.get('access-control-allow-origin')).toBe(SHOP);
  });
});

describe('API keys and usage plans', () => {
  test('a missing or wrong key is refused with 403, as API Gateway does', async () => {
    const missing = await get('/partner');
    expect(missing.status).toBe(403);
    expect(await json(missing)).toMatchObject({ code: 'INVALID_API_KEY', message: 'Forbidden' });
    const wrong = await get('/partner', { 'x-api-key': 'not-a-key-of-anyone-at-all' });
    expect(wrong.status).toBe(403);
    expect((await json(wrong)).code).toBe('INVALID_API_KEY');
  });

  test('the dev server refuses key settings synth refuses', async () => {
    const hello = path.join(dir, 'hello.js');
    await expect(createDevServer({ routes: { 'GET /p': { entry: hello, requireApiKey: true } }, port: 0, log: () => undefined })).rejects.toThrow(
      /^routes\['GET \/p'\]\.requireApiKey: the API has no consumers/,
    );
    await expect(
      createDevServer({
        routes: { 'GET /p': { entry: hello, requireApiKey: true, cache: { edge: { ttl: Duration.seconds(5) } } } },
        consumers: [{ name: 'a', apiKey: KEY_QUOTA }],
        port: 0,
        log: () => undefined,
      }),
    ).rejects.toThrow(/requireApiKey: an edge-cached route is answered by CloudFront without the key being checked/);
  });

  test('the quota runs out with 429 and comes back the next day', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('/partner', { 'x-api-key': KEY_QUOTA })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const over = await get('/partner', { 'x-api-key': KEY_QUOTA });
    expect(await json(over)).toMatchObject({ code: 'QUOTA_EXCEEDED', message: 'Limit Exceeded' });
    clock += 24 * 3600 * 1000;
    expect((await get('/partner', { 'x-api-key': KEY_QUOTA })).status).toBe(200);
  });

  test('the throttle allows the burst, answers 429 beyond it and refills at the rate', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get('/partner', { 'x-api-key': KEY_BURST })).status);
    expect(statuses).toEqual([200, 200, 429]);
    clock += 1000;
    expect((await get('/partner', { 'x-api-key': KEY_BURST })).status).toBe(200);
    expect(await json(await get('/partner', { 'x-api-key': KEY_BURST }))).toMatchObject({ code: 'THROTTLED' });
  });
});
