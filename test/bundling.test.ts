import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StatelessFunction } from '../lib';
import { CatalogStack } from '../lib/sample';
import { testApp } from './support/nag';

// The one test that bundles every real handler; template-only tests skip bundling.
const app = testApp({ bundle: true });
const stack = new CatalogStack(app, 'CatalogStack');
const assembly = app.synth();
const template = Template.fromStack(stack);

interface BundledFunction {
  /** The route key, or the construct path of a function that serves no route. */
  name: string;
  file: string;
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
      return { name: props.Environment.Variables.ROUTE_KEY ?? fn.node.path, file: path.join(assembly.directory, source.path, 'index.js') };
    });
}

const functions = bundledFunctions(stack);

/** Lambda's Node.js runtime provides AWS SDK v3 outside the bundle; here the project's copy stands in. */
function lambdaLikeEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, NODE_PATH: path.join(__dirname, '..', 'node_modules'), ...vars };
}

test('each route has its own bundle built from its own entry', () => {
  // The partner feed runs the list handler: one entry, one asset, shared by both routes.
  const fileOf = (routeKey: string) => functions.find((f) => f.name === routeKey)!.file;
  expect(fileOf('GET /partner/items')).toBe(fileOf('GET /items'));
  expect(new Set(functions.map((f) => f.file)).size).toBe(functions.length - 1);
  const exportsOf = (routeKey: string) => fs.readFileSync(functions.find((f) => f.name === routeKey)!.file, 'utf8');
  expect(exportsOf('GET /items')).toContain('createListItemsHandler');
  expect(exportsOf('PUT /items/{id}')).toContain('createPutItemHandler');
  expect(exportsOf('GET /health')).not.toContain('DynamoDB');
});

test('every function of the sample stack has a bundled, minified index.js', () => {
  expect(functions.map((f) => f.name).sort()).toEqual(
    [
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
    const code = fs.readFileSync(functions.find((f) => f.name === name)!.file, 'utf8');
    expect(code).toContain('DATA_CACHE_ENGINE');
    expect(code).not.toContain('memcached connection closed');
  }
});

test.each(functions.map((f) => [f.name, f] as const))('the %s bundle loads in a fresh Node.js and exports handler', (_key, fn) => {
  const out = execFileSync(
    process.execPath,
    ['-e', `const m = require(${JSON.stringify(fn.file)}); process.stdout.write(typeof m.handler)`],
    { env: lambdaLikeEnv({ TABLE_NAME: 'memory' }), encoding: 'utf8' },
  );
  expect(out).toBe('function');
});

test('the bundled health handler answers an API Gateway event', () => {
  const health = functions.find((f) => f.name === 'GET /health')!;
  const script = `require(${JSON.stringify(health.file)}).handler({ requestContext: { requestId: 'r1' }, headers: {} }).then((r) => process.stdout.write(JSON.stringify(r)))`;
  const result = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: lambdaLikeEnv({ ROUTE_KEY: 'GET /health' }), encoding: 'utf8' }));
  expect(result.statusCode).toBe(200);
  expect(JSON.parse(result.body)).toEqual({ status: 'ok', route: 'GET /health', requestId: 'r1' });
});

test('unchanged sources give unchanged asset hashes', () => {
  const again = testApp({ bundle: true });
  const second = new CatalogStack(again, 'CatalogStack');
  again.synth();
  const keys = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function')).map((f: any) => f.Properties.Code.S3Key).sort();
  expect(keys(Template.fromStack(second))).toEqual(keys(template));
});
