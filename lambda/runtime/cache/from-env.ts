import { CacheClient } from './cache-aside';
import * as env from './env';
import { IamAuthTokenProvider } from './iam-auth-token';
import { MemoryStore } from './memory-store';
import type { MemcachedStore } from './memcached-store';
import type { RedisStore } from './redis-store';
import { invocationEnv } from '../invocation-env';
import { CacheGetOptions, CacheOutcome, CachePolicy, CacheStore, CacheClientOptions, Loader } from './types';

/** The data-cache configuration lib/ puts in a function's environment, parsed and checked. */
export interface DataCacheSettings {
  readonly engine: env.DataCacheEngine;
  readonly endpoints: readonly { readonly host: string; readonly port: number }[];
  readonly tls: boolean;
  readonly auth: 'iam' | 'none';
  /** ElastiCache user id (IAM auth). */
  readonly user?: string;
  /** Cache name (IAM auth token host). */
  readonly cacheName?: string;
  /** AWS region (IAM auth). */
  readonly region?: string;
  readonly policy: CachePolicy;
  readonly keyPrefix: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly maxValueBytes: number;
}

/**
 * Reads the DATA_CACHE_* variables. A missing engine means the in-memory store (local runs);
 * a malformed value throws, since it is a deployment error rather than a runtime failure.
 */
export function readDataCacheSettings(source: NodeJS.ProcessEnv = process.env): DataCacheSettings {
  const engine = (source[env.DATA_CACHE_ENGINE] || 'memory') as env.DataCacheEngine;
  if (!env.DATA_CACHE_ENGINES.includes(engine)) {
    throw new Error(`${env.DATA_CACHE_ENGINE} must be one of ${env.DATA_CACHE_ENGINES.join(', ')}, got "${engine}"`);
  }
  const remote = engine !== 'memory';
  const auth = oneOf(source, env.DATA_CACHE_AUTH, ['iam', 'none'] as const, 'none');
  const settings: DataCacheSettings = {
    engine,
    endpoints: remote ? endpoints(source, engine === 'memcached' ? 11211 : 6379, engine === 'memcached') : [],
    // ElastiCache Serverless only accepts TLS.
    tls: flag(source, env.DATA_CACHE_TLS, engine === 'valkey-serverless'),
    auth,
    user: source[env.DATA_CACHE_USER] || undefined,
    cacheName: source[env.DATA_CACHE_NAME] || undefined,
    region: source.AWS_REGION || source.AWS_DEFAULT_REGION || undefined,
    policy: readCachePolicy(source),
    keyPrefix: source[env.DATA_CACHE_KEY_PREFIX] || env.DEFAULT_KEY_PREFIX,
    connectTimeoutMs: number(source, env.DATA_CACHE_CONNECT_TIMEOUT_MS, env.DEFAULT_CONNECT_TIMEOUT_MS),
    commandTimeoutMs: number(source, env.DATA_CACHE_COMMAND_TIMEOUT_MS, env.DEFAULT_COMMAND_TIMEOUT_MS),
    maxValueBytes: number(source, env.DATA_CACHE_MAX_VALUE_BYTES, env.DEFAULT_MAX_VALUE_BYTES),
  };
  if (auth === 'iam') {
    if (engine === 'memcached' || engine === 'memory') throw new Error(`IAM auth is only for Valkey/Redis engines, not ${engine}`);
    for (const [name, value] of [
      [env.DATA_CACHE_USER, settings.user],
      [env.DATA_CACHE_NAME, settings.cacheName],
      ['AWS_REGION', settings.region],
    ] as const) {
      if (!value) throw new Error(`${name} is required when ${env.DATA_CACHE_AUTH}=iam`);
    }
  }
  return settings;
}

/** The route's cache lifetimes (DATA_CACHE_TTL_SECONDS and friends). */
export function readCachePolicy(source: NodeJS.ProcessEnv = process.env): CachePolicy {
  return {
    ttlSeconds: number(source, env.DATA_CACHE_TTL_SECONDS, env.DEFAULT_TTL_SECONDS),
    negativeTtlSeconds: number(source, env.DATA_CACHE_NEGATIVE_TTL_SECONDS, env.DEFAULT_NEGATIVE_TTL_SECONDS),
    staleWhileRevalidateSeconds: number(source, env.DATA_CACHE_SWR_SECONDS, 0),
    staleIfErrorSeconds: number(source, env.DATA_CACHE_SIE_SECONDS, 0),
    jitter: number(source, env.DATA_CACHE_JITTER, env.DEFAULT_JITTER),
    loadTimeoutMs: number(source, env.DATA_CACHE_LOAD_TIMEOUT_MS, env.DEFAULT_LOAD_TIMEOUT_MS),
  };
}

/**
 * The store the settings describe. Backends are required here, not imported at the top, so a
 * function only loads the client of the engine it is configured with (iovalkey alone takes
 * tens of milliseconds to load). A bundler includes both unless the build defines
 * `process.env.DATA_CACHE_BUNDLED_BACKEND` (`redis` or `memcached`), as the stack does.
 */
export function createStore(settings: DataCacheSettings): CacheStore {
  const connection = { connectTimeoutMs: settings.connectTimeoutMs, commandTimeoutMs: settings.commandTimeoutMs };
  switch (settings.engine) {
    case 'memory':
      return new MemoryStore();
    case 'memcached': {
      // A stack bundles the function with DATA_CACHE_BUNDLED_BACKEND defined at build time (see
      // BUNDLED_BACKEND_DEFINE): esbuild then drops this branch from Redis functions' bundles.
      // The define must meet this expression itself (esbuild folds it, not a variable holding it).
      if (process.env.DATA_CACHE_BUNDLED_BACKEND === undefined || process.env.DATA_CACHE_BUNDLED_BACKEND === 'memcached') {
        const { MemcachedStore: Store } = require('./memcached-store') as { MemcachedStore: typeof MemcachedStore };
        // ElastiCache configuration endpoints (`<cluster>.<id>.cfg.<region>.cache.amazonaws.com`)
        // resolve to one node; the cluster's nodes are found with Auto Discovery.
        const autoDiscovery = settings.endpoints.length === 1 && settings.endpoints[0].host.includes('.cfg.');
        return new Store({ ...connection, servers: settings.endpoints, tls: settings.tls, autoDiscovery });
      }
      break;
    }
    case 'redis':
    case 'valkey-serverless': {
      if (process.env.DATA_CACHE_BUNDLED_BACKEND === undefined || process.env.DATA_CACHE_BUNDLED_BACKEND === 'redis') {
        const { RedisStore: Store } = require('./redis-store') as { RedisStore: typeof RedisStore };
        const [endpoint] = settings.endpoints;
        const iam =
          settings.auth === 'iam'
            ? new IamAuthTokenProvider({
                cacheName: settings.cacheName as string,
                userId: settings.user as string,
                region: settings.region as string,
                serverless: settings.engine === 'valkey-serverless',
              })
            : undefined;
        return new Store({
          ...connection,
          host: endpoint.host,
          port: endpoint.port,
          tls: settings.tls,
          username: iam ? settings.user : undefined,
          password: iam ? () => iam.get() : undefined,
        });
      }
      break;
    }
  }
  throw new Error(`${env.DATA_CACHE_ENGINE}=${settings.engine}, but this bundle was built with only the ${process.env.DATA_CACHE_BUNDLED_BACKEND} backend`);
}

/** A CacheClient for the settings; `overrides` replace any option (tests, custom stores). */
export function createCacheClient(settings: DataCacheSettings, overrides: Partial<CacheClientOptions> = {}): CacheClient {
  return new CacheClient({
    ...settings.policy,
    keyPrefix: settings.keyPrefix,
    maxValueBytes: settings.maxValueBytes,
    store: overrides.store ?? createStore(settings),
    ...overrides,
  });
}

/**
 * Module-level reuse across invocations of a container - the only state this runtime keeps
 * between calls. Nothing is created until the first call, and the store connects on first use.
 */
let shared: CacheClient | undefined;

/**
 * The container's CacheClient, built from the environment on first call. Calling it at module
 * scope loads the cache client during Lambda init (no connection is opened until first use).
 */
export function getCacheClient(): CacheClient {
  shared ??= createCacheClient(readDataCacheSettings());
  return shared;
}

/** Closes and forgets the container's CacheClient (tests, or after changing the environment). */
export async function resetCacheClient(): Promise<void> {
  const current = shared;
  shared = undefined;
  await current?.close();
}

const policies = new WeakMap<NodeJS.ProcessEnv, CachePolicy>();
let lastSource: NodeJS.ProcessEnv | undefined;
let lastPolicy: CachePolicy | undefined;

/**
 * The lifetimes of the route being served. In Lambda that is the function's environment, the
 * same one the container's CacheClient was built from; a local host serving many routes in one
 * process (the dev server) gives each request its route's variables (see invocation-env.ts).
 */
function routePolicy(): CachePolicy {
  const source = invocationEnv();
  // The same environment as the last call (always, in Lambda): no WeakMap lookup on the hit path.
  if (source === lastSource) return lastPolicy as CachePolicy;
  let policy = policies.get(source);
  if (policy === undefined) policies.set(source, (policy = readCachePolicy(source)));
  lastSource = source;
  lastPolicy = policy;
  return policy;
}

const isOwnOption = Object.prototype.propertyIsEnumerable;

/**
 * What `{ ...route, ...options }` gives the client (a call's own enumerable options over the
 * route's policy, an explicit `undefined` included), without the spread: a double object spread
 * costs about 1 us in V8 (it leaves the fast clone path), as much as the rest of a cache hit.
 * Only the keys the caller set are visited (a call usually sets one, `group`): testing all seven
 * names on every call cost a grouped hit about 0.3 us. Without options the route's policy object
 * itself is passed.
 */
export function routeCallOptions(route: CachePolicy, options: CacheGetOptions | undefined): CacheGetOptions {
  if (options === undefined || options === null) return route; // a spread of null adds nothing either
  const merged: { -readonly [K in keyof CacheGetOptions]: CacheGetOptions[K] } = {
    ttlSeconds: route.ttlSeconds,
    negativeTtlSeconds: route.negativeTtlSeconds,
    staleWhileRevalidateSeconds: route.staleWhileRevalidateSeconds,
    staleIfErrorSeconds: route.staleIfErrorSeconds,
    jitter: route.jitter,
    loadTimeoutMs: route.loadTimeoutMs,
    group: (route as CacheGetOptions).group,
  };
  for (const name in options) {
    if (isOwnOption.call(options, name) && Object.hasOwn(merged, name)) (merged as Record<string, unknown>)[name] = (options as Record<string, unknown>)[name];
  }
  return merged;
}

/** `getCacheClient().get(key, load, options)`: cache-aside with the route's settings. */
export function cacheAside<T>(key: string, load: Loader<T>, options?: CacheGetOptions): Promise<T | undefined> {
  try {
    return getCacheClient().get(key, load, routeCallOptions(routePolicy(), options));
  } catch (err) {
    return Promise.reject(err); // a malformed environment: a rejection, like every other failure
  }
}

/** `cacheAside`, also telling how the value was served (hit, stale, miss, bypass, error). */
export function cacheAsideWithOutcome<T>(
  key: string,
  load: Loader<T>,
  options?: CacheGetOptions,
): Promise<{ value: T | undefined; outcome: CacheOutcome }> {
  try {
    return getCacheClient().getWithOutcome(key, load, routeCallOptions(routePolicy(), options));
  } catch (err) {
    return Promise.reject(err);
  }
}

function endpoints(source: NodeJS.ProcessEnv, defaultPort: number, many: boolean): { host: string; port: number }[] {
  const raw = source[env.DATA_CACHE_ENDPOINT];
  if (!raw) throw new Error(`${env.DATA_CACHE_ENDPOINT} is required for engine ${source[env.DATA_CACHE_ENGINE]}`);
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0 || (!many && list.length > 1)) throw new Error(`${env.DATA_CACHE_ENDPOINT} must be host:port${many ? '[,host:port...]' : ''}, got "${raw}"`);
  return list.map((item) => {
    // host:port, [ipv6]:port, or a bare host.
    const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(item);
    if (!match) throw new Error(`${env.DATA_CACHE_ENDPOINT} has a malformed entry "${item}"`);
    return { host: match[1] ?? match[2], port: match[3] ? Number(match[3]) : defaultPort };
  });
}

function number(source: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got "${raw}"`);
  return value;
}

function flag(source: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  return oneOf(source, name, ['true', 'false'] as const, fallback ? 'true' : 'false') === 'true';
}

function oneOf<T extends string>(source: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}
