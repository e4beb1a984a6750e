import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RouteTable } from '../lib/api/route-spec';
import { randomBytes } from 'node:crypto';
import type { ApiAuthorization } from '../lib/api/api-authorization';
import type { ApiConsumer } from '../lib/api/api-consumers';
import type { DevConsumer } from './api-keys';
import { checkReachable, localDynamoDb, localRedis, MEMORY_TABLE } from './local-backends';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretOriginVerification } from './origin-verification';
import { createDevServer, DevDataPurge, DevServer } from './server';
import { DEV_MODEL_ARGS, DevModelCliOptions, parseDevModelArgs, withDevModelRoutes } from './model-cli';

export const DEV_USAGE = `Usage: npm run dev -- [options]

Serves the route table locally as the deployed stack would (CloudFront cache, API Gateway,
one Lambda handler per route), reloading handlers when their sources change.

Options:
  --port <n>              port on 127.0.0.1 (default 3000; 0 picks a free port)
  --host <addr>           address to listen on (default 127.0.0.1)
  --redis <url>           data cache in a Redis/Valkey server, e.g. redis://127.0.0.1:6379
                          (default: the embedded in-memory store)
  --dynamodb <url>        items in a local DynamoDB, e.g. http://127.0.0.1:8000 (DynamoDB Local,
                          moto_server); the table is created when missing (default: in-memory table)
  --table <name>          table name with --dynamodb (default cdk-cacheable-api-dev)
  --routes <file>[#name]  serve another route table: a module exporting a RouteTable (or a
                          function returning one) as "routes", the default export or <name>
  --env KEY=VALUE         extra variable for every function (repeatable)
  --key-prefix <p>        data-cache key prefix (default dev)
  --api-key NAME=KEY      the key consumer NAME sends in x-api-key (repeatable; at least 20
                          characters); consumers without one get a random key, printed at start
  --cors <origin>         allow a browser origin, as CacheableApi's cors (repeatable)
  --no-watch              do not reload handlers on changes
  --no-edge-cache         do not emulate CloudFront's cache
  --origin-secret <id>    refuse (403) requests whose x-origin-verify is not a value of this
                          origin-verify secret (AWSCURRENT, AWSPREVIOUS, AWSPENDING), as the
                          regional web ACL does; send the header as CloudFront would
  --secrets-endpoint <url>  Secrets Manager endpoint for --origin-secret, e.g. moto_server's
  --model-upstream <url>  OpenAI-compatible server behind the model alias "upstream", e.g.
                          http://127.0.0.1:11434/v1 (key from MODEL_UPSTREAM_API_KEY if set)
  --model-name <name>     model name sent to --model-upstream (default "default")
  --model-budget <n>      token budget per consumer (x-api-key or bearer key) per day
  --no-models             do not serve /v1/chat/completions and /v1/models (local model)
  --headers-timeout-ms <n>  longest wait for a request's headers (default 10000)
  --request-timeout-ms <n>  longest wait for a whole request (default 30000)
  --max-connections <n>   open connections served at once; more get a 503 (default 256)
  -h, --help              this help`;

export interface DevCliOptions {
  readonly port: number;
  readonly host: string;
  readonly redis?: string;
  readonly dynamodb?: string;
  readonly table?: string;
  readonly routes?: string;
  readonly env: Record<string, string>;
  readonly keyPrefix: string;
  readonly apiKeys: Record<string, string>;
  readonly corsOrigins: string[];
  readonly watch: boolean;
  readonly edgeCache: boolean;
  readonly originSecret?: string;
  readonly secretsEndpoint?: string;
  readonly models: DevModelCliOptions;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly help: boolean;
}

export function parseDevArgs(argv: readonly string[]): DevCliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      redis: { type: 'string' },
      dynamodb: { type: 'string' },
      table: { type: 'string' },
      routes: { type: 'string' },
      env: { type: 'string', multiple: true },
      'key-prefix': { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      cors: { type: 'string', multiple: true },
      'no-watch': { type: 'boolean' },
      'no-edge-cache': { type: 'boolean' },
      'origin-secret': { type: 'string' },
      'secrets-endpoint': { type: 'string' },
      ...DEV_MODEL_ARGS,
      'headers-timeout-ms': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      'max-connections': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const port = values.port === undefined ? 3000 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0 to 65535, got "${values.port}"`);
  if (values.table !== undefined && values.dynamodb === undefined) throw new Error('--table needs --dynamodb');
  if (values['secrets-endpoint'] !== undefined && values['origin-secret'] === undefined) throw new Error('--secrets-endpoint needs --origin-secret');
  const env: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`--env must be KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const apiKeys: Record<string, string> = {};
  for (const pair of values['api-key'] ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1 || pair.length - eq - 1 < 20) throw new Error(`--api-key must be NAME=KEY with a key of at least 20 characters, got "${pair}"`);
    apiKeys[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    port,
    host: values.host ?? '127.0.0.1',
    redis: values.redis,
    dynamodb: values.dynamodb,
    table: values.table,
    routes: values.routes,
    env,
    keyPrefix: values['key-prefix'] ?? 'dev',
    apiKeys,
    corsOrigins: values.cors ?? [],
    watch: !values['no-watch'],
    edgeCache: !values['no-edge-cache'],
    originSecret: values['origin-secret'],
    secretsEndpoint: values['secrets-endpoint'],
    models: parseDevModelArgs(values),
    headersTimeoutMs: positiveInteger('--headers-timeout-ms', values['headers-timeout-ms']),
    requestTimeoutMs: positiveInteger('--request-timeout-ms', values['request-timeout-ms']),
    maxConnections: positiveInteger('--max-connections', values['max-connections']),
    help: values.help ?? false,
  };
}

function positiveInteger(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a whole number >= 1, got "${raw}"`);
  return value;
}

/** The route table of `--routes file[#export]`, or the sample catalog's with its data purge. */
interface LoadedRoutes {
  routes: RouteTable;
  dataPurge?: DevDataPurge;
  source: string;
  consumers?: ApiConsumer[];
  authorization?: ApiAuthorization;
}

function loadRoutes(spec: string | undefined): LoadedRoutes {
  if (spec === undefined) {
    const sample = require('../lib/sample/catalog-routes') as typeof import('../lib/sample/catalog-routes');
    const { CATALOG_DATA_PURGE } = require('../lambda/catalog/cache-keys') as typeof import('../lambda/catalog/cache-keys');
    return {
      routes: sample.catalogRoutes({ partnerFeed: true }),
      dataPurge: CATALOG_DATA_PURGE,
      source: 'catalogRoutes() in lib/sample/catalog-routes.ts',
      consumers: sample.CATALOG_CONSUMERS,
      authorization: sample.CATALOG_AUTHORIZATION,
    };
  }
  const hash = spec.lastIndexOf('#');
  const file = path.resolve(hash > 0 ? spec.slice(0, hash) : spec);
  const name = hash > 0 ? spec.slice(hash + 1) : undefined;
  const mod = require(file) as Record<string, unknown>;
  const candidates = name ? [mod[name]] : [mod.routes, mod.default, mod.routeTable];
  const found = candidates.find((c) => c !== undefined);
  const table = typeof found === 'function' ? (found as () => unknown)() : found;
  if (table === null || typeof table !== 'object') {
    throw new Error(`--routes ${spec}: export ${name ?? '"routes" or default'} is not a route table (or a function returning one)`);
  }
  return { routes: table as RouteTable, source: path.relative(process.cwd(), file) + (name ? `#${name}` : '') };
}

/** Runs the dev server until SIGINT or SIGTERM; resolves to the process exit code. */
export async function runDevCli(argv: readonly string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  let options: DevCliOptions;
  try {
    options = parseDevArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${DEV_USAGE}`);
    return 2;
  }
  if (options.help) {
    out(DEV_USAGE);
    return 0;
  }
  // Handlers are TypeScript: load them through tsx's CommonJS hook (a no-op when tsx already runs us).
  (require('tsx/cjs/api') as { register: () => unknown }).register();

  const environment: Record<string, string> = { TABLE_NAME: MEMORY_TABLE };
  let dataCacheLine = 'memory (embedded, per process)';
  let tableLine = `${MEMORY_TABLE} (embedded, kept across reloads)`;
  let server: DevServer;
  try {
    if (options.redis) {
      const redis = localRedis(options.redis);
      await checkReachable('Redis', redis.host, redis.port);
      Object.assign(environment, redis.environment);
      dataCacheLine = `redis ${redis.environment.DATA_CACHE_ENDPOINT}${redis.tls ? ' (TLS)' : ''}`;
    }
    if (options.dynamodb) {
      const dynamo = await localDynamoDb(options.dynamodb, options.table);
      Object.assign(environment, dynamo.environment);
      tableLine = `DynamoDB table ${dynamo.tableName} at ${dynamo.endpoint}${dynamo.created ? ' (created)' : ''}`;
    }
    Object.assign(environment, options.env);
    const loaded = loadRoutes(options.routes);
    const { dataPurge, source, consumers, authorization } = loaded;
    const routes = withDevModelRoutes(loaded.routes, options.models, options.routes !== undefined);
    const devConsumers = withDevKeys(consumers ?? [], options.apiKeys);
    server = await createDevServer({
      routes,
      dataPurge,
      consumers: devConsumers,
      authorization,
      cors: options.corsOrigins.length ? { allowOrigins: options.corsOrigins } : undefined,
      host: options.host,
      port: options.port,
      keyPrefix: options.keyPrefix,
      environment,
      watch: options.watch,
      edgeCache: options.edgeCache,
      originVerification: options.originSecret
        ? secretOriginVerification({
            secrets: new SecretsManagerClient({ endpoint: options.secretsEndpoint, region: process.env.AWS_REGION ?? 'us-east-1' }),
            secretId: options.originSecret,
          })
        : undefined,
      headersTimeoutMs: options.headersTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
      maxConnections: options.maxConnections,
      log: out,
    });
    out(banner(server, source, dataCacheLine, tableLine, devConsumers));
  } catch (error) {
    console.error(`dev server: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        out(`${signal} again: exiting now`);
        resolve(130);
        return;
      }
      stopping = true;
      out(`${signal}: stopping…`);
      const forced = setTimeout(() => {
        console.error('dev server: did not stop within 5 s');
        resolve(1);
      }, 5_000);
      forced.unref();
      server.close().then(
        () => {
          clearTimeout(forced);
          out('dev server stopped');
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(forced);
          console.error(`dev server: error while stopping: ${String(error)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function banner(server: DevServer, source: string, dataCache: string, table: string, consumers: readonly DevConsumer[] = []): string {
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  const width = Math.max(...server.routes.map((r) => (server.url + r.route.path).length));
  const lines = [
    'cdk-cacheable-api dev server: CloudFront (dev-edge) → API Gateway REST → one handler per route',
    `  routes      ${source}`,
    `  data cache  ${dataCache}`,
    `  table       ${table}`,
    '',
  ];
  for (const { route, entry } of server.routes) {
    const cache: string[] = [];
    if (route.cache.edge) cache.push(`edge ${route.cache.edge.ttl}s`);
    if (route.cache.data) cache.push(`data ${route.cache.data.ttl}s`);
    const key = [...route.cache.key.queryStrings.map((q) => `?${q}`), ...route.cache.key.headers];
    if (key.length) cache.push(`key ${key.join(' ')}`);
    lines.push(`  ${route.method.padEnd(6)} ${(server.url + route.path).padEnd(width)}  ${rel(entry)}${cache.length ? `  [${cache.join(', ')}]` : ''}`);
  }
  lines.push('');
  for (const c of consumers) lines.push(`  api key of ${c.name}: ${c.apiKey}  (send as x-api-key)`);
  if (consumers.length) lines.push('');
  if (server.watching.length) lines.push(`  reloading on changes under ${server.watching.map(rel).join(', ')}`);
  lines.push(`Listening on ${server.url}  (Ctrl+C to stop)`);
  return lines.join('\n');
}

/**
 * The consumers with the keys the dev server accepts: the stack's consumers (their keys live in
 * Secrets Manager there) with the key given by --api-key or a random one, plus any --api-key
 * name that is not a consumer of the table (no throttle, no quota).
 */
export function withDevKeys(consumers: readonly ApiConsumer[], keys: Record<string, string>): DevConsumer[] {
  const named = new Set(consumers.map((c) => c.name));
  return [
    ...consumers.map((c) => ({ ...c, apiKey: keys[c.name] ?? randomBytes(20).toString('base64url') })),
    ...Object.entries(keys)
      .filter(([name]) => !named.has(name))
      .map(([name, apiKey]) => ({ name, apiKey })),
  ];
}
