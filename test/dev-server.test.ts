/**
 * The local dev server end to end, over real HTTP: `tsx scripts/dev.ts` as `npm run dev` runs it
 * (once on the embedded stores, once with a real redis-server behind the data cache), and
 * createDevServer in-process on small route tables written to a temp directory.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { CACHEABLE_API_DEFAULTS } from '../lib/api/cacheable-api-defaults';
import { catalogRoutes } from '../lib/sample/catalog-routes';
import { routeEnvironment } from '../lib/api/route-environment';
import type { RouteTable } from '../lib/api/route-spec';
import { parseRouteTable } from '../lib/api/route-table';
import { STATELESS_FUNCTION_DEFAULTS } from '../lib/functions/stateless-function';
import { groupGenerationKey } from '../lambda/runtime/cache/keys';
import { normalisePath, purgePathsForWrite } from '../dev/edge-cache';
import { invalidationPathsForWrite, normaliseInvalidationPath } from '../lib/edge/invalidation-paths';
import { parseDevArgs } from '../dev/main';
import { createDevServer, DEV_LIMITS, DevServer } from '../dev/server';
import { CacheServer, startRedis } from './support/servers';

const REPO = path.join(__dirname, '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');

/** `tsx scripts/dev.ts <args>` until it prints its URL. */
interface DevProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** Sends `signal` and resolves to the exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

async function startDevProcess(args: string[]): Promise<DevProcess> {
  const child = spawn(TSX, ['scripts/dev.ts', '--port', '0', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev server did not start within 25 s:\n${out}`)), 25_000);
    const check = () => {
      const match = /Listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`dev server exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until the server's output has a line matching `pattern` (log lines follow the response). */
async function logLine(proc: { output(): string }, pattern: RegExp, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = proc.output().split('\n').find((l) => pattern.test(l));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} in:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const putJson = (url: string, body: unknown) =>
  fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe.each([
  { config: 'embedded stores', redis: false, signal: 'SIGINT' as const },
  { config: 'a real redis-server behind the data cache (--redis)', redis: true, signal: 'SIGTERM' as const },
])('npm run dev with $config', ({ redis, signal }) => {
  let cacheServer: CacheServer | undefined;
  let dev: DevProcess;
  const id = redis ? 'lamp-redis' : 'lamp-memory';

  beforeAll(async () => {
    const args = ['--no-watch'];
    if (redis) {
      cacheServer = await startRedis();
      args.push('--redis', `redis://${cacheServer.host}:${cacheServer.port}`);
    }
    dev = await startDevProcess(args);
  }, 40_000);

  afterAll(async () => {
    await dev?.stop('SIGKILL');
    await cacheServer?.stop();
  });

  test('prints every route of the table with its URL, and the data cache in use', () => {
    for (const route of parseRouteTable(catalogRoutes())) {
      expect(dev.output()).toMatch(new RegExp(`${route.method}\\s+${dev.url}${route.path.replace(/[{}]/g, '\\$&')}\\s`));
    }
    expect(dev.output()).toContain(redis ? `data cache  redis ${cacheServer!.host}:${cacheServer!.port}` : 'data cache  memory');
  });

  test('the partner feed answers 403 without an API key, as API Gateway does, and 200 with the key printed at start', async () => {
    const key = /api key of partner: (\S+)/.exec(dev.output())?.[1];
    expect(key).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const without = await fetch(`${dev.url}/partner/items?limit=1`);
    expect(without.status).toBe(403);
    expect(await without.json()).toMatchObject({ code: 'INVALID_API_KEY', message: 'Forbidden' });
    const withKey = await fetch(`${dev.url}/partner/items?limit=1`, { headers: { 'x-api-key': key! } });
    expect(withKey.status).toBe(200);
    expect(await withKey.json()).toHaveProperty('items');
  });

  test('GET an item twice: a miss, then an edge hit with Age, the same body and ETag', async () => {
    expect((await putJson(`${dev.url}/items/${id}`, { name: 'Desk lamp', price: 39.5 })).status).toBe(200);
    const first = await fetch(`${dev.url}/items/${id}`);
    const second = await fetch(`${dev.url}/items/${id}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('Miss from dev-edge');
    expect(second.status).toBe(200);
    expect(second.headers.get('x-cache')).toBe('Hit from dev-edge');
    expect(second.headers.get('age')).toMatch(/^\d+$/);
    const body = await first.json();
    expect(body).toMatchObject({ id, name: 'Desk lamp', price: 39.5 });
    expect(await second.json()).toEqual(body);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    // The hit is the stored answer of the first invocation, as CloudFront serves it.
    expect(second.headers.get('x-amzn-requestid')).toBe(first.headers.get('x-amzn-requestid'));
    // The log line carries the edge result and the data-cache result the handler reported.
    const line = await logLine(dev, new RegExp(`^GET\\s+/items/${id} 200 .*edge=miss`));
    expect(line).toContain(`data=${first.headers.get('x-data-cache') ?? '-'}`);
    await logLine(dev, new RegExp(`^GET\\s+/items/${id} 200 .*edge=hit`));
  });

  test('the edge answers a matching If-None-Match with 304 itself', async () => {
    const etag = (await fetch(`${dev.url}/items/${id}`)).headers.get('etag')!;
    const res = await fetch(`${dev.url}/items/${id}`, { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get('x-cache')).toBe('Hit from dev-edge');
    expect(res.headers.get('etag')).toBe(etag);
  });

  test('PUT invalidates: the next GET is a miss with the new value', async () => {
    expect((await fetch(`${dev.url}/items/${id}`)).headers.get('x-cache')).toBe('Hit from dev-edge');
    const put = await putJson(`${dev.url}/items/${id}`, { name: 'Desk lamp', price: 25 });
    expect(put.status).toBe(200);
    const after = await fetch(`${dev.url}/items/${id}`);
    expect(after.headers.get('x-cache')).toBe('Miss from dev-edge');
    expect(await after.json()).toMatchObject({ id, price: 25 });
    expect((await fetch(`${dev.url}/items/${id}`)).headers.get('x-cache')).toBe('Hit from dev-edge');
    if (cacheServer) {
      // The write's data purge reached the real server, under the routes' key prefix.
      expect(cacheServer.cliSync('EXISTS', groupGenerationKey('dev', 'items')).trim()).toBe('1');
    }
  });

  test('400 for malformed JSON, and the item is unchanged', async () => {
    const res = await putJson(`${dev.url}/items/${id}`, '{"name": "x", ');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'BAD_REQUEST', message: 'Request body is not valid JSON' });
    expect(await (await fetch(`${dev.url}/items/${id}`)).json()).toMatchObject({ price: 25 });
  });

  test('404 JSON for an unknown route', async () => {
    const res = await fetch(`${dev.url}/nothing/here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND', requestId: expect.any(String) });
  });

  test('405 with Allow for a known path and a wrong method', async () => {
    const post = await fetch(`${dev.url}/items/${id}`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('DELETE, GET, PUT');
    expect(await post.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const del = await fetch(`${dev.url}/items`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET');
  });

  test('413 from the handler over the route\'s 16 KiB limit, and from the server over 10 MB', async () => {
    const overRoute = await putJson(`${dev.url}/items/${id}`, { name: 'x', price: 1, description: 'd'.repeat(17_000) });
    expect(overRoute.status).toBe(413);
    expect(await overRoute.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'Request body exceeds 16384 bytes' });
    const overGateway = await fetch(`${dev.url}/items/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(DEV_LIMITS.apiGatewayPayloadBytes + 1, 0x20),
    });
    expect(overGateway.status).toBe(413);
    expect(await overGateway.json()).toMatchObject({ code: 'REQUEST_TOO_LARGE' });
  });

  test('the list route keys on its declared query strings only; an undeclared one is not forwarded', async () => {
    const xCache = async (query: string) => (await fetch(`${dev.url}/items?${query}`)).headers.get('x-cache');
    expect(await xCache('limit=1')).toBe('Miss from dev-edge');
    expect(await xCache('limit=1')).toBe('Hit from dev-edge');
    expect(await xCache('limit=2')).toBe('Miss from dev-edge');
    expect(await xCache('limit=1&foo=1')).toBe('Hit from dev-edge');
    expect(await xCache('foo=2&limit=2')).toBe('Hit from dev-edge');
    expect(await xCache('limit=3&foo=1')).toBe('Miss from dev-edge');
    expect(await logLine(dev, /^GET\s+\/items\?limit=3&foo=1 200 /)).toContain('not forwarded: foo');
  });

  test(`stops cleanly on ${signal} with exit code 0`, async () => {
    expect(await dev.stop(signal)).toBe(0);
    expect(dev.output()).toContain('dev server stopped');
  });
});

describe('createDevServer on a route table of its own', () => {
  let dir: string;
  let server: DevServer;
  let clock = Date.parse('2026-11-26T00:00:00Z');
  const lines: string[] = [];
  const runtime = (file: string) => JSON.stringify(path.join(REPO, 'lambda', 'runtime', file));

  const handlers: Record<string, string> = {
    // Echoes what the handler sees: its route's settings, the event and the context.
    'echo.js': `
      const { invocationEnv } = require(${runtime('invocation-env')});
      exports.handler = async (event, context) => {
        await new Promise((r) => setTimeout(r, Number(event.headers['x-delay'] || 0)));
        const env = invocationEnv();
        return {
          statusCode: 200,
          headers: { 'Cache-Control': env.ROUTE_CACHE_CONTROL },
          body: JSON.stringify({
            env: Object.fromEntries(Object.entries(env).filter(([k]) => /^(ROUTE_|DATA_CACHE_)/.test(k))),
            processRouteKey: process.env.ROUTE_KEY ?? null,
            lambdaName: env.AWS_LAMBDA_FUNCTION_NAME,
            event: { resource: event.resource, path: event.path, httpMethod: event.httpMethod, pathParameters: event.pathParameters,
              query: event.queryStringParameters, headers: Object.keys(event.headers).map((h) => h.toLowerCase()),
              stage: event.requestContext.stage, requestId: event.requestContext.requestId },
            context: { functionName: context.functionName, arn: context.invokedFunctionArn, memory: context.memoryLimitInMB,
              remaining: context.getRemainingTimeInMillis(), awsRequestId: context.awsRequestId, logGroupName: context.logGroupName },
          }),
        };
      };`,
    'shapes.js': `
      exports.handler = async (event) => {
        switch ((event.pathParameters || {}).shape) {
          case 'throws': throw new Error('boom');
          case 'object-body': return { statusCode: 200, body: { not: 'a string' } };
          case 'no-status': return { body: 'x' };
          case 'nothing': return undefined;
          case 'slow': return new Promise((r) => setTimeout(() => r({ statusCode: 200, body: 'late' }), 1500));
          case 'binary': return { statusCode: 200, headers: { 'Content-Type': 'image/png' }, isBase64Encoded: true, body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]).toString('base64') };
          case 'multi': return { statusCode: 201, headers: { 'X-One': 'single', 'Set-Cookie': 'ignored=1' }, multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] }, body: 'ok' };
          case 'private': return { statusCode: 200, headers: { 'Cache-Control': 'private, max-age=60' }, body: 'mine' };
          case 'short': return { statusCode: 200, headers: { 'Cache-Control': 'public, s-maxage=1' }, body: String(Math.random()) };
          default: return { statusCode: 200, body: 'plain' };
        }
      };`,
    'write.js': `exports.handler = async () => ({ statusCode: 204, body: '' });`,
  };

  const table = (): RouteTable => {
    const entry = (f: string) => path.join(dir, f);
    return {
      'GET /search': {
        entry: entry('echo.js'),
        request: { queryStrings: { q: false, mode: true } },
        cache: { edge: { ttl: Duration.seconds(30) }, key: { queryStrings: ['q', 'mode'], headers: ['Accept-Language'] } },
      },
      'GET /things/{id}': {
        entry: entry('echo.js'),
        cache: { edge: { ttl: Duration.seconds(60) }, data: { ttl: Duration.minutes(5), staleIfError: Duration.minutes(1) } },
      },
      'GET /things/special': { entry: entry('shapes.js') },
      'PUT /things/{id}': { entry: entry('write.js'), request: { maxBodyBytes: 1024 }, cache: { data: { ttl: Duration.seconds(30) } } },
      'GET /raw': { entry: entry('echo.js'), function: { memorySize: 1024 } },
      'GET /shapes/{shape}': { entry: entry('shapes.js'), function: { timeout: Duration.seconds(1) } },
      'GET /cached/{shape}': { entry: entry('shapes.js'), cache: { edge: { ttl: Duration.seconds(30) } } },
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cca-dev-'));
    for (const [file, source] of Object.entries(handlers)) writeFileSync(path.join(dir, file), source);
    server = await createDevServer({ routes: table(), port: 0, keyPrefix: 'test', log: (l) => lines.push(l), now: () => clock });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (p: string, headers: Record<string, string> = {}) => fetch(`${server.url}${p}`, { headers });
  const echo = async (p: string, headers: Record<string, string> = {}) => {
    const res = await get(p, headers);
    expect(res.status).toBe(200);
    return { res, body: (await res.json()) as Record<string, any> };
  };

  test('each handler sees exactly its route\'s routeEnvironment() through the invocation env, under concurrency', async () => {
    const parsed = parseRouteTable(table());
    const expected = (key: string) => routeEnvironment(parsed.find((r) => r.key === key)!, 'test');
    const requests = Array.from({ length: 24 }, (_v, i) => {
      const [p, key] = [
        ['/search?mode=a', 'GET /search'],
        [`/things/t${i}`, 'GET /things/{id}'],
        ['/raw', 'GET /raw'],
      ][i % 3];
      return { p, key, delay: String((i * 7) % 25) };
    });
    const results = await Promise.all(
      requests.map(async ({ p, key, delay }) => ({ key, body: (await echo(p, { 'x-delay': delay })).body })),
    );
    for (const { key, body } of results) {
      const want = expected(key);
      const seen = Object.fromEntries(Object.entries(body.env as Record<string, string>).filter(([k]) => k in want));
      expect(seen).toEqual(want);
      // Per-route settings never leak into process.env, which every route shares.
      expect(body.processRouteKey).toBeNull();
    }
    expect(expected('GET /things/{id}')).toMatchObject({ DATA_CACHE_TTL_SECONDS: '300', DATA_CACHE_SIE_SECONDS: '60', DATA_CACHE_KEY_PREFIX: 'test' });
  });

  test('the event is API Gateway\'s and the context a Lambda context of the route\'s function', async () => {
    const { res, body } = await echo('/raw');
    expect(body.event).toMatchObject({ resource: '/raw', path: '/raw', httpMethod: 'GET', pathParameters: null, stage: DEV_LIMITS.stageName });
    expect(res.headers.get('x-amzn-requestid')).toBe(body.event.requestId);
    expect(body.context.functionName).toBe('test-GetRawFunction');
    expect(body.lambdaName).toBe('test-GetRawFunction');
    expect(body.context.arn).toMatch(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:test-GetRawFunction$/);
    expect(body.context.memory).toBe('1024');
    expect(body.context.logGroupName).toBe('/aws/lambda/test-GetRawFunction');
    expect(body.context.remaining).toBeGreaterThan(9_000);
    expect(body.context.remaining).toBeLessThanOrEqual(10_000);
    expect(body.context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.context.awsRequestId).not.toBe(body.event.requestId);
    expect((await echo('/things/abc')).body.event).toMatchObject({ resource: '/things/{id}', pathParameters: { id: 'abc' } });
  });

  test('the most specific resource wins, as in API Gateway', async () => {
    expect(await (await get('/things/special')).text()).toBe('plain');
    expect((await echo('/things/other')).body.event.resource).toBe('/things/{id}');
  });

  test.each([
    ['throws', 'The handler failed: boom'],
    ['object-body', 'Malformed Lambda proxy response: body must be a string'],
    ['no-status', 'Malformed Lambda proxy response: statusCode must be an integer'],
    ['nothing', 'Malformed Lambda proxy response: expected an object'],
    ['slow', 'Task timed out after 1.00 seconds'],
  ])('502 JSON when the handler %s', async (shape, detail) => {
    const res = await get(`/shapes/${shape}`);
    expect(res.status).toBe(502);
    expect(res.headers.get('x-cache')).toBe('Error from dev-edge');
    const body = (await res.json()) as { detail: string };
    expect(body).toMatchObject({ code: 'BAD_GATEWAY', message: 'Internal server error', requestId: expect.any(String) });
    expect(body.detail).toContain(detail);
  });

  test('maps base64 bodies, multi-value headers and the default Content-Type as API Gateway does', async () => {
    const binary = await get('/shapes/binary');
    expect(binary.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await binary.arrayBuffer())).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]));
    const multi = await get('/shapes/multi');
    expect(multi.status).toBe(201);
    expect(multi.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(multi.headers.get('x-one')).toBe('single');
    expect(multi.headers.get('content-type')).toBe('application/json');
  });

  test('undeclared query strings and headers do not reach a cached route\'s handler; an uncached route gets them', async () => {
    const cached = await echo('/search?mode=a&q=lamp&utm=x', { 'accept-language': 'de', 'x-custom': '1' });
    expect(cached.body.event.query).toEqual({ mode: 'a', q: 'lamp' });
    expect(cached.body.event.headers).toContain('accept-language');
    expect(cached.body.event.headers).not.toContain('x-custom');
    const uncached = await echo('/raw?utm=x', { 'x-custom': '1' });
    expect(uncached.body.event.query).toEqual({ utm: 'x' });
    expect(uncached.body.event.headers).toContain('x-custom');
  });

  test('a keyed header selects its own cache entry', async () => {
    const xCache = async (lang: string) => (await get('/search?mode=h', { 'accept-language': lang })).headers.get('x-cache');
    expect(await xCache('fr')).toBe('Miss from dev-edge');
    expect(await xCache('fr')).toBe('Hit from dev-edge');
    expect(await xCache('it')).toBe('Miss from dev-edge');
  });

  test('400 like API Gateway\'s validator when a required query string is missing', async () => {
    const res = await get('/search?q=lamp');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'BAD_REQUEST_PARAMETERS', message: 'Missing required request parameters: [mode]' });
  });

  test('private responses are never kept; s-maxage sets the lifetime, Age counts up', async () => {
    expect((await get('/cached/private')).headers.get('x-cache')).toBe('Miss from dev-edge');
    expect((await get('/cached/private')).headers.get('x-cache')).toBe('Miss from dev-edge');

    const first = await get('/cached/short');
    const body = await first.text();
    clock += 900;
    const hit = await get('/cached/short');
    expect(hit.headers.get('x-cache')).toBe('Hit from dev-edge');
    expect(hit.headers.get('age')).toBe('0');
    expect(await hit.text()).toBe(body);
    clock += 200; // 1.1 s: past s-maxage=1
    const expired = await get('/cached/short');
    expect(expired.headers.get('x-cache')).toBe('Miss from dev-edge');
    expect(await expired.text()).not.toBe(body);
    clock += 30_000; // a plain answer keeps the route's default TTL (30 s)
    await get('/cached/plain');
    clock += 29_000;
    const aged = await get('/cached/plain');
    expect(aged.headers.get('x-cache')).toBe('Hit from dev-edge');
    expect(aged.headers.get('age')).toBe('29');
  });

  test('a write purges its item path and the query-keyed list routes, not other items', async () => {
    for (const p of ['/things/x', '/things/y', '/search?mode=p']) await get(p);
    for (const p of ['/things/x', '/things/y', '/search?mode=p']) expect((await get(p)).headers.get('x-cache')).toBe('Hit from dev-edge');
    const put = await fetch(`${server.url}/things/x`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(204);
    expect((await get('/things/x')).headers.get('x-cache')).toBe('Miss from dev-edge');
    expect((await get('/search?mode=p')).headers.get('x-cache')).toBe('Miss from dev-edge');
    expect((await get('/things/y')).headers.get('x-cache')).toBe('Hit from dev-edge');
    expect(lines.some((l) => /^PUT\s+\/things\/x 204 .*edge purge: \d+ entries/.test(l))).toBe(true);
  });

  test('one log line per request: method, path, status, latency, edge and data results', () => {
    expect(lines.some((l) => /^GET\s+\/things\/special 200 \d+(\.\d)? ms edge=pass data=-/.test(l))).toBe(true);
    expect(lines.some((l) => /^GET\s+\/shapes\/throws 502 .*handler threw/.test(l))).toBe(true);
  });
});

describe('handler reload on changes', () => {
  test('a changed handler is loaded again on the next request; the in-memory table survives', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cca-reload-'));
    const hello = path.join(dir, 'hello.ts');
    writeFileSync(hello, `export const handler = async () => ({ statusCode: 200, body: 'v1' });\n`);
    const catalog = (f: string) => JSON.stringify(path.join(REPO, 'lambda', 'catalog', f));
    writeFileSync(
      path.join(dir, 'routes.ts'),
      `export const routes = {
        'GET /hello': { entry: ${JSON.stringify(hello)} },
        'GET /items/{id}': { entry: ${catalog('get-item.ts')} },
        'PUT /items/{id}': { entry: ${catalog('put-item.ts')} },
      };\n`,
    );
    const dev = await startDevProcess(['--routes', path.join(dir, 'routes.ts')]);
    try {
      expect(await (await fetch(`${dev.url}/hello`)).text()).toBe('v1');
      expect((await putJson(`${dev.url}/items/kept`, { name: 'Kept', price: 1 })).status).toBe(200);
      writeFileSync(hello, `export const handler = async () => ({ statusCode: 200, body: 'v2' });\n`);
      await logLine(dev, /^reload: .*hello\.ts changed.*\(GET \/hello\)/, 5000);
      expect(await (await fetch(`${dev.url}/hello`)).text()).toBe('v2');
      expect(await (await fetch(`${dev.url}/items/kept`)).json()).toMatchObject({ name: 'Kept' });
      expect(await dev.stop('SIGTERM')).toBe(0);
    } finally {
      await dev.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});

describe('the dev server follows the stack', () => {
  test('function and stage defaults equal the constructs\'', () => {
    expect(DEV_LIMITS.memorySize).toBe(STATELESS_FUNCTION_DEFAULTS.memorySize);
    expect(DEV_LIMITS.timeoutSeconds).toBe(STATELESS_FUNCTION_DEFAULTS.timeout.toSeconds());
    expect(DEV_LIMITS.stageName).toBe(CACHEABLE_API_DEFAULTS.stageName);
  });

  test('a write purges the paths CacheSync\'s edge purge would, filled from the write\'s path', () => {
    const routes = parseRouteTable(catalogRoutes());
    // The contract is lib/edge/invalidation-paths.ts: list paths that spare other items, RFC 1738 encoding.
    for (const params of [{ id: 'lamp-1' }, { id: 'a b' }, { id: 'sku:42' }, {}] as Array<Record<string, string>>) {
      expect(purgePathsForWrite(routes, params)).toEqual(invalidationPathsForWrite(routes, params));
    }
    // The dev edge keeps entries under the spelling the purge sends.
    expect(normalisePath('/items/sku%3A42')).toBe(normaliseInvalidationPath('/items/sku%3A42'));
  });

  test('CLI flags', () => {
    expect(parseDevArgs([])).toMatchObject({ port: 3000, host: '127.0.0.1', watch: true, edgeCache: true, keyPrefix: 'dev' });
    expect(parseDevArgs(['--port', '0', '--redis', 'redis://127.0.0.1:6379', '--no-watch', '--env', 'A=b=c'])).toMatchObject({
      port: 0,
      redis: 'redis://127.0.0.1:6379',
      watch: false,
      env: { A: 'b=c' },
    });
    expect(() => parseDevArgs(['--port', 'x'])).toThrow('--port must be 0 to 65535');
    expect(() => parseDevArgs(['--table', 't'])).toThrow('--table needs --dynamodb');
    expect(() => parseDevArgs(['--bogus'])).toThrow();
    expect(parseDevArgs(['--api-key', 'partner=0123456789abcdefghij', '--cors', 'https://a.example', '--cors', 'https://b.example'])).toMatchObject({
      apiKeys: { partner: '0123456789abcdefghij' },
      corsOrigins: ['https://a.example', 'https://b.example'],
    });
    // API Gateway keys are at least 20 characters.
    expect(() => parseDevArgs(['--api-key', 'partner=short'])).toThrow('--api-key must be NAME=KEY with a key of at least 20 characters');
  });
});
