import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as os from 'os';
import * as path from 'path';
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StatelessFunction } from '../lib';
import { BUNDLE_CACHE_ENV } from '../lib/functions/bundling';
import { CatalogStack } from '../lib/sample';
import { restEvent } from './support/events';
import { testApp } from './support/nag';
import { streamRecord } from './purge/stream-events';
import { CacheServer, startRedis } from './support/servers';

// The one test that bundles every real handler; template-only tests skip bundling.
const app = testApp({ bundle: true });
const stack = new CatalogStack(app, 'CatalogStack');
const assembly = app.synth();
const template = Template.fromStack(stack);

interface BundledFunction {
  /** The route key, or the construct path of a function that serves no route. */
  name: string;
  file: string;
  /** The function's environment as synthesized (string values; tokens such as the cache endpoint left out). */
  env: Record<string, string>;
}

/** Every StatelessFunction of the stack (route handlers and purge functions) and its bundle. */
function bundledFunctions(s: Stack): BundledFunction[] {
  const artifact = assembly.getStackByName(s.stackName);
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${artifact.stackName}.assets.json`), 'utf8'));
  const resources = template.toJSON().Resources;
  return s.node
    .findAll()
    .filter((c): c is StatelessFunction => c instanceof StatelessFunction)
    .map((fn) => {
      const props = resources[s.getLogicalId(fn.node.defaultChild as CfnElement)].Properties;
      const source = manifest.files[props.Code.S3Key.replace(/\.zip$/, '')]?.source;
      expect(source?.packaging).toBe('zip');
      const variables: Record<string, unknown> = props.Environment?.Variables ?? {};
      return {
        name: (variables.ROUTE_KEY as string | undefined) ?? fn.node.path,
        file: path.join(assembly.directory, source.path, 'index.js'),
        env: Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
      };
    });
}

const functions = bundledFunctions(stack);
const fnNamed = (name: string) => functions.find((f) => f.name === name)!;

/**
 * A Lambda-like file system outside the repository: each bundle alone in its own task folder, and
 * beside it only what the Node.js runtime provides, AWS SDK v3 (`@aws-sdk/*`; the project's copy
 * stands in for the runtime's). No NODE_PATH, no project node_modules on any parent path, so a
 * module the bundle needs but does not contain fails with "Cannot find module".
 */
const lambdaRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-lambda-'));
const runtimeModules = path.join(lambdaRoot, 'node_modules', '@aws-sdk');
fs.mkdirSync(runtimeModules, { recursive: true });
for (const pkg of fs.readdirSync(path.join(__dirname, '..', 'node_modules', '@aws-sdk'))) {
  fs.symlinkSync(path.join(__dirname, '..', 'node_modules', '@aws-sdk', pkg), path.join(runtimeModules, pkg));
}
const taskFiles = new Map(
  functions.map((fn, i) => {
    const task = path.join(lambdaRoot, `task-${i}`);
    fs.mkdirSync(task);
    fs.copyFileSync(fn.file, path.join(task, 'index.js'));
    return [fn.name, path.join(task, 'index.js')] as const;
  }),
);

let redis: CacheServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  fs.rmSync(lambdaRoot, { recursive: true, force: true });
});

/** The synthesized environment, pointed at the loopback redis-server instead of ElastiCache. */
function lambdaEnv(fn: BundledFunction): NodeJS.ProcessEnv {
  const cache = fn.env.DATA_CACHE_ENGINE
    ? { DATA_CACHE_ENGINE: 'redis', DATA_CACHE_ENDPOINT: `${redis.host}:${redis.port}`, DATA_CACHE_TLS: 'false', DATA_CACHE_AUTH: 'none' }
    : {};
  return { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...fn.env, ...cache, TABLE_NAME: 'memory' };
}

/** Copies the bundle's event to a file and invokes `handler` in a fresh Node.js in the task folder. */
function invoke(fn: BundledFunction, event: unknown): any {
  const file = taskFiles.get(fn.name)!;
  const eventFile = path.join(path.dirname(file), 'event.json');
  fs.writeFileSync(eventFile, JSON.stringify(event));
  const script = [
    `const event = JSON.parse(require('fs').readFileSync(${JSON.stringify(eventFile)}, 'utf8'));`,
    `Promise.resolve(require('./index.js').handler(event, { getRemainingTimeInMillis: () => 10000 }))`,
    '.then((r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); }, (e) => { console.error(e); process.exit(1); });',
  ].join('\n');
  const out = execFileSync(process.execPath, ['-e', script], { cwd: path.dirname(file), env: lambdaEnv(fn), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.split('\n').filter((l) => l.startsWith('{"statusCode"') || l.startsWith('{"batchItemFailures"')).pop()!);
}

test('each route has its own bundle built from its own entry', () => {
  // The partner feed runs the list handler: one entry, one asset, shared by both routes.
  expect(fnNamed('GET /partner/items').file).toBe(fnNamed('GET /items').file);
  expect(new Set(functions.map((f) => f.file)).size).toBe(functions.length - 1);
  const exportsOf = (routeKey: string) => fs.readFileSync(fnNamed(routeKey).file, 'utf8');
  expect(exportsOf('GET /items')).toContain('createListItemsHandler');
  expect(exportsOf('PUT /items/{id}')).toContain('createPutItemHandler');
  expect(exportsOf('GET /health')).not.toContain('DynamoDB');
});

test('every function of the sample stack has a bundled, minified index.js', () => {
  expect(functions.map((f) => f.name).sort()).toEqual(
    [
      'CatalogStack/Api/Edge/OriginVerification/Rotation/Function',
      'CatalogStack/CacheSync/DataPurge',
      'CatalogStack/CacheSync/EdgePurge',
      'DELETE /items/{id}',
      'GET /health',
      'GET /items',
      'GET /items/{id}',
      'GET /partner/items',
      'PUT /items/{id}',
    ].sort(),
  );
  for (const fn of functions) {
    const code = fs.readFileSync(fn.file, 'utf8');
    expect(code.length).toBeGreaterThan(100);
    expect(code).not.toMatch(/sourceMappingURL/); // source maps are off by default
    expect(code.length / code.split('\n').length).toBeGreaterThan(300); // minified: long lines
    expect(code).not.toMatch(/require\("aws-cdk-lib/); // runtime code never pulls in the CDK
  }
});

test('cache clients of a Valkey stack carry the Redis client only', () => {
  for (const name of ['GET /items', 'GET /items/{id}', 'PUT /items/{id}', 'DELETE /items/{id}', 'CatalogStack/CacheSync/DataPurge']) {
    const code = fs.readFileSync(fnNamed(name).file, 'utf8');
    expect(code).toContain('DATA_CACHE_ENGINE');
    expect(code).not.toContain('memcached connection closed');
  }
});

test.each(functions.map((f) => [f.name, f] as const))('the %s bundle requires only Node.js built-ins and AWS SDK v3 at any point', (_key, fn) => {
  // Every require the bundle can ever run, lazy ones included (esbuild keeps external
  // require calls as they are): a module neither bundled nor provided by Lambda fails here.
  const code = fs.readFileSync(fn.file, 'utf8');
  const required = [...code.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
  expect(required.length).toBeGreaterThan(0);
  const provided = (m: string) => builtinModules.includes(m.replace(/^node:/, '')) || /^@aws-sdk\//.test(m);
  expect(required.filter((m) => !provided(m))).toEqual([]);
  expect(code).not.toMatch(/\bimport\(/); // no dynamic import the scan above would miss
});

test.each(functions.map((f) => [f.name, f] as const))('the %s bundle loads alone outside the repository and exports handler', (_key, fn) => {
  const file = taskFiles.get(fn.name)!;
  const out = execFileSync(process.execPath, ['-e', `process.stdout.write(typeof require('./index.js').handler)`], {
    cwd: path.dirname(file),
    env: lambdaEnv(fn),
    encoding: 'utf8',
  });
  expect(out).toBe('function');
});

test('the bundled health handler answers an API Gateway event', () => {
  const result = invoke(fnNamed('GET /health'), { requestContext: { requestId: 'r1' }, headers: {} });
  expect(result.statusCode).toBe(200);
  expect(JSON.parse(result.body)).toEqual({ status: 'ok', route: 'GET /health', requestId: 'r1' });
});

test('the bundled catalog handlers serve through a real redis-server: write, miss, hit, then the stream purge', () => {
  // Exercises the Redis client, the request validation and the repository inside the bundles,
  // which load lazily: loading alone would not notice them missing.
  const put = invoke(fnNamed('PUT /items/{id}'), restEvent('PUT /items/{id}', '/items/lamp-1', { body: JSON.stringify({ name: 'Desk lamp', price: 39.5 }) }));
  expect(put.statusCode).toBe(200);
  const invalid = invoke(fnNamed('PUT /items/{id}'), restEvent('PUT /items/{id}', '/items/lamp-2', { body: JSON.stringify({ name: 'x', price: 'free' }) }));
  expect(invalid.statusCode).toBe(400);
  expect(JSON.parse(invalid.body).field).toBe('price');
  // Each invocation is a fresh process with its own (memory) table: the item is not there.
  const get = (url: string, route: 'GET /items/{id}' | 'GET /items') => invoke(fnNamed(route), restEvent(route, url));
  const first = get('/items/lamp-1', 'GET /items/{id}');
  expect([first.statusCode, first.headers['X-Data-Cache']]).toEqual([404, 'miss']);
  const second = get('/items/lamp-1', 'GET /items/{id}');
  expect([second.statusCode, second.headers['X-Data-Cache']]).toEqual([404, 'hit']); // the negative entry, from redis
  const list = get('/items?limit=5', 'GET /items');
  expect([list.statusCode, list.headers['X-Data-Cache']]).toEqual([200, 'miss']);
  expect(get('/items?limit=5', 'GET /items').headers['X-Data-Cache']).toBe('hit');

  const purge = invoke(fnNamed('CatalogStack/CacheSync/DataPurge'), {
    Records: [streamRecord('MODIFY', { old: { id: 'lamp-1', name: 'Desk lamp', price: 39.5 }, new: { id: 'lamp-1', name: 'Desk lamp', price: 29 } })],
  });
  expect(purge).toEqual({ batchItemFailures: [] });
  expect(get('/items/lamp-1', 'GET /items/{id}').headers['X-Data-Cache']).toBe('miss');
  expect(get('/items?limit=5', 'GET /items').headers['X-Data-Cache']).toBe('miss');
  const deleted = invoke(fnNamed('DELETE /items/{id}'), restEvent('DELETE /items/{id}', '/items/lamp-1'));
  expect(deleted.statusCode).toBe(404);
});

test('unchanged sources give unchanged asset hashes', () => {
  const again = testApp({ bundle: true });
  const second = new CatalogStack(again, 'CatalogStack');
  again.synth();
  const keys = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function')).map((f: any) => f.Properties.Code.S3Key).sort();
  expect(keys(Template.fromStack(second))).toEqual(keys(template));
});

describe('bundle cache', () => {
  // A handler and its helper in their own folder, bundled with a private cache folder.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-bundle-cache-'));
  const cacheDir = path.join(dir, 'cache');
  const entry = path.join(dir, 'handler.ts');
  fs.writeFileSync(entry, "import { greeting } from './helper';\nexport const handler = async () => greeting;\n");
  const writeHelper = (text: string) => fs.writeFileSync(path.join(dir, 'helper.ts'), `export const greeting = ${JSON.stringify(text)};\n`);
  const saved = process.env[BUNDLE_CACHE_ENV];
  beforeAll(() => {
    process.env[BUNDLE_CACHE_ENV] = cacheDir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env[BUNDLE_CACHE_ENV];
    else process.env[BUNDLE_CACHE_ENV] = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function synthOnce(): { key: string; code: string } {
    const cacheApp = testApp({ bundle: true });
    const cacheStack = new Stack(cacheApp, 'CacheStack');
    new StatelessFunction(cacheStack, 'Fn', { entry });
    const out = cacheApp.synth();
    const fn = Object.values(Template.fromStack(cacheStack).findResources('AWS::Lambda::Function'))[0] as any;
    const key: string = fn.Properties.Code.S3Key;
    return { key, code: fs.readFileSync(path.join(out.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8') };
  }

  /** Marks the one cached bundle, so a later bundle that carries the mark was copied, not rebuilt. */
  function markCachedBundle(): void {
    const cached = fs.readdirSync(cacheDir).filter((f) => f.endsWith('.js'));
    expect(cached).toHaveLength(1);
    fs.appendFileSync(path.join(cacheDir, cached[0]), '\n// served-from-cache\n');
  }

  test('an unchanged handler is copied from the cache; a changed input is rebuilt', () => {
    writeHelper('hello');
    const first = synthOnce();
    expect(first.code).toContain('hello');
    markCachedBundle();

    const unchanged = synthOnce();
    expect(unchanged.code).toContain('served-from-cache');

    writeHelper('goodbye'); // an input the entry imports, not the entry itself
    const changed = synthOnce();
    expect(changed.code).toContain('goodbye');
    expect(changed.code).not.toContain('served-from-cache');
    expect(changed.key).not.toBe(first.key);
  });

  test('other bundling options are another cache entry', () => {
    writeHelper('hello');
    const minified = synthOnce();
    const cacheApp = testApp({ bundle: true });
    const cacheStack = new Stack(cacheApp, 'CacheStack');
    new StatelessFunction(cacheStack, 'Fn', { entry, minify: false });
    cacheApp.synth();
    const fn = Object.values(Template.fromStack(cacheStack).findResources('AWS::Lambda::Function'))[0] as any;
    expect(fn.Properties.Code.S3Key).not.toBe(minified.key);
  });
});
