import type {
  CacheKeySpec,
  DataCacheSpec,
  EdgeCacheSpec,
  GatewayCacheSpec,
  RouteCacheSpec,
  RouteOptions,
  RouteRequestSpec,
} from './route-spec';
import type { StatelessFunctionOptions } from '../functions/stateless-function';
import { KeysOf, rejectUnknownKeys } from '../shared/known-keys';

const ROUTE_OPTIONS: KeysOf<RouteOptions> = {
  entry: true,
  handler: true,
  function: true,
  request: true,
  cache: true,
  authorization: true,
  requireApiKey: true,
  responseTransferMode: true,
  alarms: true,
};
const REQUEST: KeysOf<RouteRequestSpec> = { queryStrings: true, headers: true, bodySchema: true, maxBodyBytes: true };
const CACHE: KeysOf<RouteCacheSpec> = { edge: true, gateway: true, data: true, key: true };
const EDGE: KeysOf<EdgeCacheSpec> = { ttl: true, maxTtl: true, minTtl: true, browserTtl: true, staleWhileRevalidate: true, staleIfError: true };
const GATEWAY: KeysOf<GatewayCacheSpec> = { ttl: true, perCaller: true };
const DATA: KeysOf<DataCacheSpec> = { ttl: true, negativeTtl: true, staleWhileRevalidate: true, staleIfError: true, jitter: true };
const KEY: KeysOf<CacheKeySpec> = { queryStrings: true, headers: true, cookies: true };
const FUNCTION: KeysOf<StatelessFunctionOptions> = {
  runtime: true,
  architecture: true,
  memorySize: true,
  timeout: true,
  environment: true,
  logRetention: true,
  logRemovalPolicy: true,
  tracing: true,
  minify: true,
  sourceMap: true,
  externalModules: true,
  define: true,
  format: true,
  reservedConcurrentExecutions: true,
  vpc: true,
  vpcSubnets: true,
  securityGroups: true,
  description: true,
  logEncryptionKey: true,
};

/** Rejects a route spec key, at any level, that the route spec types do not define, naming it. */
export function checkRouteOptionKeys(prop: string, options: RouteOptions): void {
  rejectUnknownKeys(prop, options, ROUTE_OPTIONS);
  rejectUnknownKeys(`${prop}.request`, options.request, REQUEST);
  rejectUnknownKeys(`${prop}.function`, options.function, FUNCTION);
  rejectUnknownKeys(`${prop}.cache`, options.cache, CACHE);
  rejectUnknownKeys(`${prop}.cache.edge`, options.cache?.edge, EDGE);
  rejectUnknownKeys(`${prop}.cache.gateway`, options.cache?.gateway, GATEWAY);
  rejectUnknownKeys(`${prop}.cache.data`, options.cache?.data, DATA);
  rejectUnknownKeys(`${prop}.cache.key`, options.cache?.key, KEY);
}
