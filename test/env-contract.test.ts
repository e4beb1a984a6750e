import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import { ROUTE_ENV as RUNTIME_ROUTE_ENV } from '../lambda/runtime/env';
import { ROUTE_ENV as INFRA_ROUTE_ENV } from '../lib/api/runtime-env';
import { CatalogDeps } from '../lambda/catalog/deps';
import { createGetItemHandler } from '../lambda/catalog/get-item';
import { createListItemsHandler } from '../lambda/catalog/list-items';
import type { Item } from '../lambda/catalog/item';
import { MemoryItemRepository } from '../lambda/catalog/memory-item-repository';
import { createDataCachePurgeHandler, dataPurgeSettingsFromEnv } from '../lambda/purge/data-cache-purge';
import { createCacheClient, getCacheClient, readDataCacheSettings, resetCacheClient } from '../lambda/runtime/cache/from-env';
import { CatalogStack } from '../lib/sample';
import { restEvent } from './support/events';
import { testApp } from './support/nag';
import { streamRecord } from './purge/stream-events';

const ROOT = path.join(__dirname, '..');

// lib/ and lambda/ never import each other; this keeps their shared names equal.
test('infrastructure and runtime agree on the route environment variables', () => {
  expect(RUNTIME_ROUTE_ENV).toEqual(INFRA_ROUTE_ENV);
});

describe('lambda/ never imports the CDK or infrastructure code', () => {
  /** A module a file imports, and how (the syntax that names it). */
  interface ModuleImport {
    readonly specifier: string;
    readonly form: string;
  }

  /**
   * Every module a TypeScript file names: import/export declarations, `import x = require()`,
   * `require()`, dynamic `import()` and `typeof import()`. Throws when the file does not parse or
   * names a module by a computed expression, so nothing can slip past unread.
   */
  function importsOf(fileName: string, text: string): ModuleImport[] {
    const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const syntaxErrors = (source as unknown as { parseDiagnostics: readonly ts.Diagnostic[] }).parseDiagnostics;
    if (syntaxErrors.length > 0) {
      throw new Error(`${fileName} does not parse: ${ts.flattenDiagnosticMessageText(syntaxErrors[0].messageText, '\n')}`);
    }
    const found: ModuleImport[] = [];
    const literal = (node: ts.Node | undefined, form: string) => {
      if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) {
        found.push({ specifier: node.text, form });
      } else {
        const { line } = source.getLineAndCharacterOfPosition(node?.getStart() ?? 0);
        throw new Error(`${fileName}:${line + 1}: ${form} of a computed module name cannot be checked`);
      }
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node)) literal(node.moduleSpecifier, 'import');
      else if (ts.isExportDeclaration(node) && node.moduleSpecifier) literal(node.moduleSpecifier, 'export from');
      else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
        literal(node.moduleReference.expression, 'import = require');
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal, 'typeof import');
      else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) literal(node.arguments[0], 'import()');
      else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') literal(node.arguments[0], 'require');
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  }

  const FORBIDDEN_PACKAGES = /^(aws-cdk-lib|constructs|cdk-nag|aws-cdk|esbuild)(\/|$)/;
  const LAMBDA = path.join(ROOT, 'lambda');

  /** Why a module name is not allowed in runtime code, or undefined when it is. */
  function forbidden(file: string, specifier: string): string | undefined {
    if (FORBIDDEN_PACKAGES.test(specifier)) return `${specifier} is build-time code`;
    if (specifier.startsWith('.')) {
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(LAMBDA + path.sep)) return `${specifier} resolves outside lambda/ (${path.relative(ROOT, target)})`;
    }
    return undefined;
  }

  function violations(file: string, text: string): string[] {
    return importsOf(file, text)
      .map((i) => [i, forbidden(file, i.specifier)] as const)
      .filter(([, why]) => why !== undefined)
      .map(([i, why]) => `${path.relative(ROOT, file)}: ${i.form} ${why}`);
  }

  const sourceFiles = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return /\.(ts|js|mjs|cjs)$/.test(entry.name) ? [full] : [];
    });

  test('the import reader finds every form of import, with either quote', () => {
    const file = path.join(LAMBDA, 'catalog', 'broken.ts');
    const text = [
      `import { App } from 'aws-cdk-lib';`,
      `import type { IConstruct } from "constructs";`,
      `import * as nag from 'cdk-nag';`,
      `import '../../lib/side-effect';`,
      `export { CacheableApi } from "../../lib/api/cacheable-api";`,
      `export * from '../../lib';`,
      'const s3 = require(`aws-cdk-lib/aws-s3`);',
      `const lib = require("../../lib/index");`,
      `import cdk = require('aws-cdk-lib');`,
      `const later = () => import("../../lib/sample");`,
      `type Stack = typeof import('aws-cdk-lib').Stack;`,
      `import { itemKey } from './cache-keys';`,
    ].join('\n');
    expect(violations(file, text).map((v) => v.replace(/^lambda\/catalog\/broken\.ts: /, ''))).toEqual([
      'import aws-cdk-lib is build-time code',
      'import constructs is build-time code',
      'import cdk-nag is build-time code',
      'import ../../lib/side-effect resolves outside lambda/ (lib/side-effect)',
      'export from ../../lib/api/cacheable-api resolves outside lambda/ (lib/api/cacheable-api)',
      'export from ../../lib resolves outside lambda/ (lib)',
      'require aws-cdk-lib/aws-s3 is build-time code',
      'require ../../lib/index resolves outside lambda/ (lib/index)',
      'import = require aws-cdk-lib is build-time code',
      'import() ../../lib/sample resolves outside lambda/ (lib/sample)',
      'typeof import aws-cdk-lib is build-time code',
    ]);
  });

  test('the import reader refuses what it cannot read', () => {
    expect(() => importsOf('x.ts', 'const m = require(name);')).toThrow('x.ts:1: require of a computed module name cannot be checked');
    expect(() => importsOf('x.ts', 'const m = import(`../${name}`);')).toThrow('import() of a computed module name');
    expect(() => importsOf('x.ts', "import { a from 'b';")).toThrow('x.ts does not parse');
  });

  test('no file under lambda/ imports aws-cdk-lib, constructs, cdk-nag, esbuild or anything outside lambda/', () => {
    const files = sourceFiles(LAMBDA);
    expect(files.length).toBeGreaterThan(30);
    const all = files.flatMap((file) => violations(file, fs.readFileSync(file, 'utf8')));
    expect(all).toEqual([]);
    // The reader saw the runtime's own imports (a reader that finds nothing would also pass).
    const handler = path.join(LAMBDA, 'catalog', 'get-item.ts');
    expect(importsOf(handler, fs.readFileSync(handler, 'utf8')).map((i) => i.specifier)).toContain('./cache-keys');
  });
});

describe('the stack purges exactly what the catalog handlers cache', () => {
  // What the stack deploys: the GET functions' and the data purge's environment, as synthesized.
  const app = testApp();
  const stack = new CatalogStack(app, 'CatalogStack');
  const template = Template.fromStack(stack);
  const functionEnv = (match: (env: Record<string, string>) => boolean): Record<string, string> => {
    const envs = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((fn: any) => (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>)
      .filter((env) => match(env as Record<string, string>));
    expect(envs).toHaveLength(1);
    // Connection settings (tokens) are not needed in-process: the embedded store stands in.
    return Object.fromEntries(Object.entries(envs[0]).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  };
  const purgeEnv = functionEnv((env) => env.DATA_PURGE_KEYS !== undefined || env.DATA_PURGE_GROUPS !== undefined);
  const routeEnvs = {
    item: functionEnv((env) => env.ROUTE_KEY === 'GET /items/{id}'),
    list: functionEnv((env) => env.ROUTE_KEY === 'GET /items'),
  };
  const withoutEngine = (env: Record<string, string>) => {
    const { DATA_CACHE_ENGINE: _engine, DATA_CACHE_ENDPOINT: _endpoint, DATA_CACHE_AUTH: _auth, DATA_CACHE_TLS: _tls, ...rest } = env;
    return rest;
  };

  const saved = { ...process.env };
  beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined)); // one request log line per call
  afterAll(async () => {
    jest.restoreAllMocks();
    process.env = saved;
    await resetCacheClient();
  });

  test.each([
    ['GET /items/{id}', 'item'],
    ['GET /items', 'list'],
  ] as const)('a write outside the API, through the stream purge the stack configures, makes %s miss', async (_route, which) => {
    // The handler runs as its function would: the key prefix and lifetimes from its synthesized
    // environment, the container's CacheClient over the embedded store.
    await resetCacheClient();
    process.env = { ...saved, ...withoutEngine(routeEnvs[which]) };
    const items = new MemoryItemRepository();
    const deps = (): CatalogDeps => ({ items, now: () => new Date('2026-11-30T00:00:00Z') });
    const read = which === 'item' ? createGetItemHandler(deps) : createListItemsHandler(deps);
    const event = which === 'item' ? restEvent('GET /items/{id}', '/items/lamp-1') : restEvent('GET /items', '/items?limit=5');
    const served = async () => {
      const res = await read(event);
      return { outcome: res.headers?.['X-Data-Cache'], body: JSON.parse(res.body) };
    };
    const lamp: Item = { id: 'lamp-1', name: 'Desk lamp', price: 39.5, updatedAt: '2026-11-30T00:00:00.000Z' };
    await items.put(lamp);
    expect((await served()).outcome).toBe('miss');
    expect((await served()).outcome).toBe('hit');

    // Another writer changes the table; the stream delivers the change to the data purge,
    // configured by its own synthesized environment, on the same cache.
    await items.put({ ...lamp, price: 29, updatedAt: '2026-11-30T00:01:00.000Z' });
    const purgeCache = createCacheClient(readDataCacheSettings(withoutEngine(purgeEnv)), { store: getCacheClient().store });
    const purge = createDataCachePurgeHandler(() => ({
      cache: purgeCache,
      settings: dataPurgeSettingsFromEnv(purgeEnv),
      sleep: async () => undefined,
      random: () => 0,
    }));
    const record = streamRecord('MODIFY', { old: { id: 'lamp-1', name: 'Desk lamp', price: 39.5 }, new: { id: 'lamp-1', name: 'Desk lamp', price: 29 } });
    expect(await purge({ Records: [record] })).toEqual({ batchItemFailures: [] });

    const after = await served();
    expect(after.outcome).toBe('miss');
    expect(JSON.stringify(after.body)).toContain('"price":29');
  });
});
